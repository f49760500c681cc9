package salesforce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The calls a push makes, and what their answers say.

// dataPath is the REST API's data root.
const dataPath = "/services/data/" + APIVersion

// syncErrors reads the data API's refusals: Salesforce's error array, with
// a 404 meaning a missing resource (not, as on Apex REST, a missing
// package).
var syncErrors = crm.APIErrors{Provider: qwoty.ProviderSalesforce, Read: func(e *crm.APIError, body []byte) {
	readAPIError(e, body)
	if e.Status == http.StatusNotFound {
		e.Kinds = []error{crm.ErrNotFound}
	}
}}

// callOptions names our calls in the org's API usage and event logs
// (Sforce-Call-Options' client): admins see which integration spends
// their allocation. It changes no limit.
var callOptions = http.Header{"Sforce-Call-Options": {"client=qwoty-sync"}}

// limitInfo reads Sforce-Limit-Info's "api-usage=used/limit" (and not the
// per-app usage that may follow it).
var limitInfo = regexp.MustCompile(`(?:^|[;,]\s*)api-usage=(\d+)/(\d+)`)

// call makes one REST call through the session: it takes a unit of the
// daily budget first, corrects the budget from the org's own count on every
// answer, and turns 403 REQUEST_LIMIT_EXCEEDED into a block of the
// connection and a *crm.WaitError.
func (p *push) call(ctx context.Context, method, path string, body, out any) error {
	err := p.sess.Call(ctx, func(ctx context.Context, token string) error {
		if err := p.budget.Take(ctx, bucketDaily, 1); err != nil {
			return err
		}
		p.calls++
		return crm.Call(ctx, crm.Request{Provider: qwoty.ProviderSalesforce, Method: method, Base: p.conn.InstanceURL, Path: path,
			Token: token, JSON: body, Timeout: syncTimeout, HTTP: p.s.a.o.HTTP, Refused: syncErrors.Answer, Header: callOptions,
			Seen: func(_ int, h http.Header) { p.seen(ctx, h) }}, out)
	})
	var apiErr *crm.APIError
	if errors.Is(err, crm.ErrRateLimited) && errors.As(err, &apiErr) {
		// No Retry-After (Salesforce sends none with
		// REQUEST_LIMIT_EXCEEDED): wait a while, then a single call tells.
		until := p.s.now().Add(limitBlock)
		if apiErr.RetryAfter > 0 {
			until = p.s.now().Add(apiErr.RetryAfter)
		}
		_ = p.budget.Block(ctx, until)
		return &crm.WaitError{Until: until, Reason: "Salesforce: " + apiErr.Code + ": " + apiErr.Message}
	}
	return err
}

// seen reads the org's API usage from an answer: sync may use share of
// the org's allocation, so what is left to it is share × limit − used,
// counting every integration's calls, not only ours.
func (p *push) seen(ctx context.Context, h http.Header) {
	m := limitInfo.FindStringSubmatch(h.Get("Sforce-Limit-Info"))
	if m == nil {
		return
	}
	used, err1 := strconv.Atoi(m[1])
	limit, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil || limit <= 0 {
		return
	}
	rememberLimits(p.conn.ID, func(l *limits) { l.allocation = limit })
	part := p.limits.share * float64(limit)
	_ = p.budget.Observe(ctx, bucketDaily, part-float64(used), part)
}

// compositeRequest is the body of POST /composite.
type compositeRequest struct {
	AllOrNone bool `json:"allOrNone"`
	// Collate stays false: collated subrequests may run out of order, and
	// a push's deletes, updates and upserts depend on their order.
	Collate  bool         `json:"collateSubrequests"`
	Requests []subrequest `json:"compositeRequest"`
}

type subrequest struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	ReferenceID string `json:"referenceId"`
	Body        any    `json:"body,omitempty"`
}

type compositeResponse struct {
	Results []subresult `json:"compositeResponse"`
}

type subresult struct {
	Body        json.RawMessage `json:"body"`
	Status      int             `json:"httpStatusCode"`
	ReferenceID string          `json:"referenceId"`
}

// composite sends one Composite request and returns its results by
// referenceId.
func (p *push) composite(ctx context.Context, allOrNone bool, subs []subrequest) (map[string]subresult, error) {
	var resp compositeResponse
	if err := p.call(ctx, http.MethodPost, dataPath+"/composite", compositeRequest{AllOrNone: allOrNone, Requests: subs}, &resp); err != nil {
		return nil, err
	}
	out := make(map[string]subresult, len(resp.Results))
	for _, r := range resp.Results {
		out[r.ReferenceID] = r
	}
	for _, s := range subs {
		if _, ok := out[s.ReferenceID]; !ok {
			return nil, fmt.Errorf("salesforce: the composite answer has no result for %s", s.ReferenceID)
		}
	}
	return out, nil
}

// queryURL is the Query resource for q.
func queryURL(q string) string { return dataPath + "/query/?q=" + url.QueryEscape(q) }

// soqlString quotes s as a SOQL string literal.
func soqlString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`, "\r", `\r`, "\t", `\t`, `"`, `\"`)
	return "'" + r.Replace(s) + "'"
}

// soqlList is an IN list of string literals.
func soqlList(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = soqlString(v)
	}
	return "(" + strings.Join(q, ", ") + ")"
}

// sfError is one error of Salesforce's: a REST error body's element, or a
// record result's error.
type sfError struct {
	Code    string   `json:"errorCode"`
	Status  string   `json:"statusCode"`
	Message string   `json:"message"`
	Fields  []string `json:"fields"`
}

func (e sfError) code() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Status
}

func (e sfError) String() string { return e.code() + ": " + e.Message }

// itemResult is a record's result in an sObject Collections answer.
type itemResult struct {
	ID      string    `json:"id"`
	Success bool      `json:"success"`
	Created bool      `json:"created"`
	Errors  []sfError `json:"errors"`
}

// element reads an answer body that is a JSON array: a collection's
// results or an error list.
type element struct {
	itemResult
	sfError
}

func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// readBody splits a subrequest's body into record results or errors.
func readBody(raw []byte) (items []itemResult, errs []sfError) {
	var list []element
	if len(raw) == 0 || raw[0] != '[' || decodeJSON(raw, &list) != nil {
		return nil, nil
	}
	for _, e := range list {
		if e.sfError.Code != "" {
			errs = append(errs, e.sfError)
			continue
		}
		items = append(items, e.itemResult)
	}
	return items, errs
}

// row is one record of a query answer.
type row map[string]any

func (r row) str(f string) string { s, _ := r[f].(string); return s }

func (r row) boolean(f string) bool { b, _ := r[f].(bool); return b }

func (r row) dec(f string) decimal.Decimal {
	n, _ := r[f].(json.Number)
	d, _ := decimal.NewFromString(n.String())
	return d
}

// sub is a parent's fields in a row ("Product2": {...}).
func (r row) sub(rel string) row { m, _ := r[rel].(map[string]any); return m }

type queryAnswer struct {
	Done    bool   `json:"done"`
	Next    string `json:"nextRecordsUrl"`
	Records []row  `json:"records"`
}

// rows reads a query subrequest's result, and the pages after it.
func (p *push) rows(ctx context.Context, r subresult) ([]row, error) {
	if r.Status != http.StatusOK {
		_, errs := readBody(r.Body)
		return nil, queryError(r.Status, errs)
	}
	var page queryAnswer
	if err := decodeJSON(r.Body, &page); err != nil {
		return nil, fmt.Errorf("salesforce: a query answer is not the expected JSON: %w", err)
	}
	out := page.Records
	for !page.Done && page.Next != "" {
		next := page.Next
		page = queryAnswer{}
		var raw json.RawMessage
		if err := p.call(ctx, http.MethodGet, next, nil, &raw); err != nil {
			return nil, err
		}
		if err := decodeJSON(raw, &page); err != nil {
			return nil, fmt.Errorf("salesforce: a query page is not the expected JSON: %w", err)
		}
		out = append(out, page.Records...)
	}
	return out, nil
}

// queryError is a refused query, as an *crm.APIError that the push's
// error rules read.
func queryError(status int, errs []sfError) error {
	e := &crm.APIError{Provider: qwoty.ProviderSalesforce, Status: status}
	if len(errs) > 0 {
		e.Code, e.Message = errs[0].code(), errs[0].Message
	}
	e.Kinds = crm.StatusKinds(status)
	if status == http.StatusNotFound {
		e.Kinds = []error{crm.ErrNotFound}
	}
	return e
}
