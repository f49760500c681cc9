package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The Qwoty package's Apex REST resources (docs/salesforce-package.md): the
// class urlMapping under the package namespace.
const (
	ConfigPath = "/services/apexrest/Qwoty/qwoty/config"
	PingPath   = "/services/apexrest/Qwoty/qwoty/ping"
)

// PingTimeout bounds a ping: the org's Apex itself waits up to 10 s for its
// callout to us, so DefaultTimeout would cut a slow but healthy round trip.
const PingTimeout = 30 * time.Second

// Client calls an org's REST API as the user who owns AccessToken.
type Client struct {
	InstanceURL string
	AccessToken string
	// HTTP makes the calls; nil means http.DefaultClient. Every call is also
	// bounded by DefaultTimeout (PingTimeout for Ping).
	HTTP *http.Client
}

// ConfigState is the org's Qwoty_Config__c as the config resource reports it;
// the secret never comes back.
type ConfigState struct {
	// OrgID is the org the resource ran in: check it is the org connected.
	OrgID string
	// Configured: the org defaults record exists (it stays after a delete).
	Configured bool
	// AppURL is the stored app URL, "" when not configured.
	AppURL string
	// SecretSet: a secret is stored, so the card and the ping can sign.
	SecretSet bool
}

// PingReport is the ping resource's report of the org's signed round trip.
type PingReport struct {
	OK     bool   `json:"ok"`
	OrgID  string `json:"orgId"`
	Scheme string `json:"scheme"`
	// Status is our server's HTTP status to the org's callout, 0 if none.
	Status int `json:"status"`
	// RequestID is our server's request id, "" if none.
	RequestID string     `json:"requestId"`
	Steps     []PingStep `json:"steps"`
}

// PingStep is one step of a ping: config, callout or signature.
type PingStep struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Code is "" on a passing step; SKIPPED after a failed one.
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Step returns the named step, or nil.
func (r *PingReport) Step(name string) *PingStep {
	for i := range r.Steps {
		if r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// PutConfig stores the org's embed secret and the app URL in the package's
// protected setting.
func (c *Client) PutConfig(ctx context.Context, secret, appURL string) (*ConfigState, error) {
	st, err := c.config(ctx, http.MethodPut, map[string]string{"secret": secret, "appUrl": appURL})
	if err != nil {
		return nil, fmt.Errorf("salesforce: put Qwoty config on %s: %w", c.InstanceURL, err)
	}
	return st, nil
}

// GetConfig reads the state of the org's setting.
func (c *Client) GetConfig(ctx context.Context) (*ConfigState, error) {
	st, err := c.config(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, fmt.Errorf("salesforce: get Qwoty config on %s: %w", c.InstanceURL, err)
	}
	return st, nil
}

// DeleteConfig clears the org's secret (disconnect); the app URL stays.
func (c *Client) DeleteConfig(ctx context.Context) (*ConfigState, error) {
	st, err := c.config(ctx, http.MethodDelete, nil)
	if err != nil {
		return nil, fmt.Errorf("salesforce: delete Qwoty config on %s: %w", c.InstanceURL, err)
	}
	return st, nil
}

func (c *Client) config(ctx context.Context, method string, body any) (*ConfigState, error) {
	var v struct {
		OK         bool    `json:"ok"`
		OrgID      string  `json:"orgId"`
		Configured bool    `json:"configured"`
		AppURL     *string `json:"appUrl"`
		SecretSet  bool    `json:"secretSet"`
	}
	if err := c.call(ctx, method, ConfigPath, body, DefaultTimeout, &v); err != nil {
		return nil, err
	}
	if !v.OK || v.OrgID == "" {
		return nil, fmt.Errorf("the answer is not the config resource's (no \"ok\": true with an orgId)")
	}
	st := &ConfigState{OrgID: v.OrgID, Configured: v.Configured, SecretSet: v.SecretSet}
	if v.AppURL != nil {
		st.AppURL = *v.AppURL
	}
	return st, nil
}

// Ping asks the org to make a signed call to our /api/crm/ping and report
// each step. A failed step is a report, not an error.
func (c *Client) Ping(ctx context.Context) (*PingReport, error) {
	var r PingReport
	if err := c.call(ctx, http.MethodPost, PingPath, struct{}{}, PingTimeout, &r); err != nil {
		return nil, fmt.Errorf("salesforce: ping from %s: %w", c.InstanceURL, err)
	}
	if len(r.Steps) == 0 {
		return nil, fmt.Errorf("salesforce: ping from %s: the answer has no steps", c.InstanceURL)
	}
	return &r, nil
}

// call sends one request and decodes a 2xx answer into out, or returns an
// *crm.APIError.
func (c *Client) call(ctx context.Context, method, path string, body any, timeout time.Duration, out any) error {
	return crm.Call(ctx, crm.Request{Provider: qwoty.ProviderSalesforce, Method: method, Base: c.InstanceURL, Path: path,
		Token: c.AccessToken, JSON: body, Timeout: timeout, HTTP: c.HTTP, Refused: apiErrors.Answer}, out)
}
