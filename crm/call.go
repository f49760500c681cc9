package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
)

// Request is one call to a CRM's HTTP API, as every CRM client makes it.
type Request struct {
	// Provider names the CRM in errors.
	Provider qwoty.Provider
	Method   string
	// Base is the CRM's base URL (an instance, an API domain, a login
	// host), checked with BaseURL before anything is sent to it; Path and
	// Query are added to it.
	Base  string
	Path  string
	Query url.Values
	// Token, when set, goes as a bearer token.
	Token string
	// Header are more request headers (Salesforce's Sforce-Call-Options).
	Header http.Header
	// JSON, when not nil, is encoded as the body; Form, when not nil, is
	// the body, form-encoded. One at most.
	JSON any
	Form url.Values
	// Body, when not nil, is the body as it is, of type BodyType (a
	// multipart form: Multipart). One of JSON, Form and Body at most.
	Body     []byte
	BodyType string
	// Timeout bounds the call within ctx's own deadline; 0 adds none.
	Timeout time.Duration
	// HTTP makes the call; nil means http.DefaultClient.
	HTTP *http.Client
	// Refused turns an answer that is not a 2xx into the call's error:
	// APIErrors.Answer or OAuthErrors.Answer of the CRM. nil makes a bare
	// *APIError.
	Refused func(status int, header http.Header, body []byte) error
	// Seen, when set, is shown every answer's status and header before it
	// is decoded, refusals included: sync reads the CRM's rate-limit
	// headers (Sforce-Limit-Info, X-HubSpot-RateLimit-Remaining) there.
	Seen func(status int, header http.Header)
}

// Call sends r and decodes a 2xx answer's JSON into out (a nil out reads
// and drops the body). The answer is read up to MaxAnswer; a longer one
// fails to decode rather than filling memory.
func Call(ctx context.Context, r Request, out any) error {
	base, err := BaseURL(r.Base, r.Provider.Title())
	if err != nil {
		return err
	}
	target := base + r.Path
	if len(r.Query) > 0 {
		target += "?" + r.Query.Encode()
	}
	var body io.Reader
	contentType := ""
	switch {
	case (r.JSON != nil && r.Form != nil) || (r.Body != nil && (r.JSON != nil || r.Form != nil)):
		return fmt.Errorf("a call to %s has more than one body", r.Provider.Title())
	case r.Body != nil:
		body, contentType = bytes.NewReader(r.Body), r.BodyType
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			return fmt.Errorf("encode the request: %w", err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	case r.Form != nil:
		body, contentType = strings.NewReader(r.Form.Encode()), "application/x-www-form-urlencoded"
	}
	ctx, cancel := bound(ctx, r.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, r.Method, target, body)
	if err != nil {
		return err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	began := time.Now()
	resp, err := Client(r.HTTP).Do(req)
	if err != nil {
		metrics.CRMCall(string(r.Provider), r.Method, r.Path, 0, time.Since(began))
		return err
	}
	defer resp.Body.Close()
	metrics.CRMCall(string(r.Provider), r.Method, r.Path, resp.StatusCode, time.Since(began))
	if r.Seen != nil {
		r.Seen(resp.StatusCode, resp.Header)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if r.Refused == nil {
			return APIErrors{Provider: r.Provider}.Answer(resp.StatusCode, resp.Header, data)
		}
		return r.Refused(resp.StatusCode, resp.Header, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the answer is not the expected JSON: %w", err)
	}
	return nil
}

// bound is ctx within d; d <= 0 adds no bound.
func bound(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}
