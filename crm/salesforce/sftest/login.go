package sftest

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// The login and consent pages of the web server flow, as Salesforce's
// documentation describes them ("OAuth 2.0 Web Server Flow for Web App
// Integration"): the user logs in, then Salesforce asks them to allow the
// connected app the scopes it requests; "Deny" sends the browser back to the
// callback with error=access_denied and error_description "end-user denied
// authorization". The emulator checks no password: any non-empty one logs
// in a user of its orgs.

// scopeLabels are the consent page's words for each scope, as Salesforce
// lists them on the "Allow Access?" page.
var scopeLabels = map[string]string{
	"api":            "Manage user data via APIs (api)",
	"refresh_token":  "Perform requests at any time (refresh_token, offline_access)",
	"offline_access": "Perform requests at any time (refresh_token, offline_access)",
	"id":             "Access the identity URL service (id, profile, email, address, phone)",
}

// loginFailed is the message Salesforce's login page shows for a wrong
// username or password.
const loginFailed = "Please check your username and password. If you still can't log in, contact your Salesforce administrator."

type loginPage struct {
	Step     string // "login" or "consent"
	Params   [][2]string
	Username string
	Error    string
	Scopes   []string
	OrgName  string
}

var loginTemplate = template.Must(template.New("login").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if eq .Step "login"}}Login | Salesforce{{else}}Allow Access? | Salesforce{{end}}</title>
<style>
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f2f2;color:#181818}
main{max-width:380px;margin:48px auto;padding:0 16px}
.logo{font-size:26px;font-weight:700;color:#0176d3;text-align:center;margin-bottom:20px}
.box{background:#fff;border:1px solid #dddbda;border-radius:4px;padding:20px}
label{display:block;font-size:13px;color:#3e3e3c;margin:10px 0 4px}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;font:inherit;padding:8px;border:1px solid #c9c9c9;border-radius:4px}
button{font:inherit;padding:8px 16px;border-radius:4px;border:1px solid #0176d3;cursor:pointer}
.primary{background:#0176d3;color:#fff;width:100%;margin-top:16px}
.row{display:flex;gap:8px;justify-content:flex-end;margin-top:16px}
.secondary{background:#fff;color:#0176d3}
.error{color:#ea001e;margin:0 0 8px}
.note{color:#706e6b;font-size:12px;margin-top:14px;text-align:center}
</style></head><body><main>
<div class="logo">salesforce</div>
<div class="box">
<form method="post" action="/services/oauth2/authorize">
{{range .Params}}<input type="hidden" name="{{index . 0}}" value="{{index . 1}}">
{{end}}
{{if eq .Step "login"}}
<input type="hidden" name="sftest_step" value="login">
{{if .Error}}<p class="error" id="login-error" role="alert">{{.Error}}</p>{{end}}
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" required>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button class="primary" type="submit" id="Login">Log In</button>
</form></div>
<p class="note">Salesforce emulator (development): any password logs in.</p>
{{else}}
<input type="hidden" name="sftest_step" value="consent">
<input type="hidden" name="username" value="{{.Username}}">
<h1 style="font-size:18px;margin:0 0 8px">Allow Access?</h1>
<p><strong>Qwoty</strong> is asking to:</p>
<ul>{{range .Scopes}}<li>{{.}}</li>{{end}}</ul>
<p>Do you want to allow access for {{.Username}}{{if .OrgName}} ({{.OrgName}}){{end}}?</p>
<div class="row">
<button class="secondary" type="submit" name="sftest_consent" value="deny" id="oaapprove-deny">Deny</button>
<button class="primary" style="width:auto;margin:0" type="submit" name="sftest_consent" value="allow" id="oaapprove">Allow</button>
</div>
</form></div>
{{end}}
</main></body></html>`))

// loginAndConsent runs the login and consent pages. It returns the user who
// allowed access, or done when it answered the request itself (a page, or
// the redirect of a denial).
func (s *Server) loginAndConsent(w http.ResponseWriter, r *http.Request, q url.Values, fail func(code, description string)) (*user, bool) {
	var params [][2]string
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "prompt", "login_hint"} {
		if q.Has(k) {
			params = append(params, [2]string{k, q.Get(k)})
		}
	}
	page := loginPage{Step: "login", Params: params}
	s.mu.Lock()
	page.Username = s.loginAs.Username
	s.mu.Unlock()
	if r.Method == http.MethodGet {
		showLogin(w, http.StatusOK, page)
		return nil, true
	}
	username := strings.TrimSpace(q.Get("username"))
	s.mu.Lock()
	var u *user
	for _, cand := range s.users {
		if strings.EqualFold(cand.Username, username) {
			u = cand
		}
	}
	s.mu.Unlock()
	if u == nil || (q.Get("sftest_step") == "login" && q.Get("password") == "") {
		page.Username, page.Error = username, loginFailed
		showLogin(w, http.StatusOK, page)
		return nil, true
	}
	switch q.Get("sftest_consent") {
	case "allow":
		return u, false
	case "deny":
		fail("access_denied", "end-user denied authorization")
		return nil, true
	}
	scope, _ := s.grantScope(q.Get("scope"))
	seen := map[string]bool{}
	for _, sc := range strings.Fields(scope) {
		label := scopeLabels[sc]
		if label == "" {
			label = sc
		}
		if !seen[label] {
			seen[label] = true
			page.Scopes = append(page.Scopes, label)
		}
	}
	page.Step, page.Username, page.OrgName = "consent", u.Username, u.org.MyDomain
	showLogin(w, http.StatusOK, page)
	return nil, true
}

func showLogin(w http.ResponseWriter, status int, p loginPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	// The page is framed by no one, as Salesforce's login refuses framing.
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, p)
}
