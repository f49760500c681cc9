package pdtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm/emulator"
)

// What Pipedrive's app extensions send to the app, so that server tests send
// exactly that. From the documentation ("JSON panels", "Custom UI
// extensions", the app extensions SDK's README):
//
//   - a JSON panel: GET {API endpoint}?resource=deal&view=details&userId=…
//     &companyId=…&selectedIds={deal id}&isShared=false&token={JWT}, with
//     a Basic Authorization header when HTTP Auth is configured;
//   - a custom panel: the iframe loads {Iframe URL}?userId=…&companyId=…
//     &token={JWT}&id={runtime id}&resource=deal&view=details
//     &selectedIds={deal id};
//   - the SDK's GET_SIGNED_TOKEN: a new JWT valid 5 minutes.
//
// Every token is an HS256 JWT signed with the extension's JWT secret, or the
// client secret when that is empty, and "contains Pipedrive user and company
// ids". Its payload is not documented; {"userId":n,"companyId":n,"iat":t,
// "exp":t} with numbers is assumed (the documentation's Node.js example reads
// userId and companyId from the verified payload). The parameter order is
// the documentation's.

// PanelParams describe one JSON panel request.
type PanelParams struct {
	// UserID is who looks at the deal; 0 means the logged-in user. Their
	// company is the request's company.
	UserID int64
	// DealID is the deal whose detail view shows the panel.
	DealID int64
	// IsShared: the user has not installed the app and sees the panel
	// shared by their company.
	IsShared bool
}

// CustomUIParams describe one load of the custom panel's iframe.
type CustomUIParams struct {
	// UserID is who looks at the deal; 0 means the logged-in user.
	UserID int64
	// DealID is the deal whose detail view shows the panel.
	DealID int64
}

// PanelRequest builds the GET Pipedrive sends to a JSON panel's API
// endpoint, endpoint being the URL registered in Developer Hub (for Qwoty,
// the app URL + /api/crm/pipedrive/panel).
func (s *Server) PanelRequest(endpoint string, p PanelParams) (*http.Request, error) {
	u, err := s.extensionUser(p.UserID)
	if err != nil {
		return nil, err
	}
	tok, err := s.sign(s.opts.App.PanelJWTSecret, u)
	if err != nil {
		return nil, err
	}
	target, err := withQuery(endpoint, [][2]string{
		{"resource", "deal"},
		{"view", "details"},
		{"userId", strconv.FormatInt(u.ID, 10)},
		{"companyId", strconv.FormatInt(u.company.ID, 10)},
		{"selectedIds", strconv.FormatInt(p.DealID, 10)},
		{"isShared", strconv.FormatBool(p.IsShared)},
		{"token", tok},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("pdtest: panel request: %w", err)
	}
	if s.opts.App.PanelUsername != "" || s.opts.App.PanelPassword != "" {
		req.SetBasicAuth(s.opts.App.PanelUsername, s.opts.App.PanelPassword)
	}
	return req, nil
}

// CustomUIURL builds the URL Pipedrive loads in the custom panel's iframe,
// iframeURL being the URL registered in Developer Hub (for Qwoty, the app
// URL + /embed/pipedrive/card).
func (s *Server) CustomUIURL(iframeURL string, p CustomUIParams) (string, error) {
	u, err := s.extensionUser(p.UserID)
	if err != nil {
		return "", err
	}
	tok, err := s.sign(s.opts.App.CustomPanelJWTSecret, u)
	if err != nil {
		return "", err
	}
	return withQuery(iframeURL, [][2]string{
		{"userId", strconv.FormatInt(u.ID, 10)},
		{"companyId", strconv.FormatInt(u.company.ID, 10)},
		{"token", tok},
		{"id", emulator.RandomHex(16)},
		{"resource", "deal"},
		{"view", "details"},
		{"selectedIds", strconv.FormatInt(p.DealID, 10)},
	})
}

// SignedToken is what the SDK's GET_SIGNED_TOKEN command gives the custom
// panel's page: a new token for the user (0: the logged-in one), valid
// ExtensionTokenTTL.
func (s *Server) SignedToken(userID int64) (string, error) {
	u, err := s.extensionUser(userID)
	if err != nil {
		return "", err
	}
	return s.sign(s.opts.App.CustomPanelJWTSecret, u)
}

func (s *Server) extensionUser(id int64) (*user, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 {
		return s.loginAs, nil
	}
	u, ok := s.users[id]
	if !ok {
		return nil, fmt.Errorf("pdtest: no user %d", id)
	}
	return u, nil
}

// sign makes an extension token for u with the extension's JWT secret, or
// the client secret when it has none. It is built here by hand, apart from
// the pipedrive package, so that each checks the other.
func (s *Server) sign(jwtSecret string, u *user) (string, error) {
	key := jwtSecret
	if key == "" {
		key = s.opts.App.ClientSecret
	}
	now := s.Now()
	payload, err := json.Marshal(map[string]int64{
		"userId":    u.ID,
		"companyId": u.company.ID,
		"iat":       now.Unix(),
		"exp":       now.Add(s.opts.ExtensionTokenTTL).Unix(),
	})
	if err != nil {
		return "", fmt.Errorf("pdtest: sign token: %w", err)
	}
	signing := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

// withQuery appends params, in order, to the registered URL's own query.
func withQuery(registered string, params [][2]string) (string, error) {
	u, err := url.Parse(registered)
	if err != nil || !u.IsAbs() {
		return "", fmt.Errorf("pdtest: %q is not an absolute URL", registered)
	}
	parts := make([]string, 0, len(params)+1)
	if u.RawQuery != "" {
		parts = append(parts, u.RawQuery)
	}
	for _, p := range params {
		parts = append(parts, url.QueryEscape(p[0])+"="+url.QueryEscape(p[1]))
	}
	u.RawQuery = strings.Join(parts, "&")
	return u.String(), nil
}
