package console

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// A connection's API keys (Settings → Integrations → the CRM → API keys),
// admins only: made with a name, scopes and an optional expiry, the token
// shown once; listed with their use; revoked after a confirmation.

// apiKeysView is the page of the session's workspace's connection to the
// adapter's CRM.
func (con *Console) apiKeysView(c *gin.Context) (templates.APIKeysView, *qwoty.Connection, error) {
	in := adapterOf(c).Info()
	v := templates.APIKeysView{ConsolePage: con.page(c), CRMName: in.Name, Provider: in.Provider, Now: con.now(),
		RateLimit: con.cfg.APIRateLimit.OrDefault().Text(), Form: templates.APIKeyForm{Access: templates.AccessReadOnly}}
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		return v, nil, err
	}
	ctx := c.Request.Context()
	if v.Keys, err = con.db.APIKeys(ctx, conn.WorkspaceID, conn.ID); err != nil {
		return v, nil, err
	}
	v.Usage, err = con.db.APIKeysUsage(ctx, conn.WorkspaceID, conn.ID)
	return v, conn, err
}

func (con *Console) apiKeysShow(c *gin.Context) {
	v, _, err := con.apiKeysView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	web.Render(c, http.StatusOK, templates.APIKeys(v))
}

// apiKeyCreate makes the key and answers the page with its token, this
// once (never cached, never in a URL: no redirect).
func (con *Console) apiKeyCreate(c *gin.Context) {
	v, conn, err := con.apiKeysView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Form = templates.APIKeyForm{Name: c.PostForm("name"), Access: c.PostForm("access"), Scopes: c.PostFormArray("scope"),
		Expires: c.PostForm("expires")}
	scopes, err := formScopes(v.Form)
	var expires *time.Time
	if err == nil {
		expires, err = formExpiry(v.Form.Expires)
	}
	var token string
	var created *store.APIKey
	if err == nil {
		token, created, err = con.db.CreateAPIKey(c.Request.Context(), conn.WorkspaceID, conn.ID, v.Form.Name, scopes, expires,
			sessionOf(c).User.Email)
	}
	if err != nil {
		e := qwoty.AsError(err)
		if e.Code == qwoty.CodeInternal {
			con.fail(c, err)
			return
		}
		v.Error = formError(e)
		web.Render(c, qwoty.HTTPStatus(e.Code), templates.APIKeys(v))
		return
	}
	// The list again, with the new key.
	if v, _, err = con.apiKeysView(c); err != nil {
		con.fail(c, err)
		return
	}
	v.Created, v.Token = created, token
	c.Header("Cache-Control", "no-store")
	web.Render(c, http.StatusOK, templates.APIKeys(v))
}

// formScopes are the scopes the form asks for: a preset's, or the ticked
// ones.
func formScopes(f templates.APIKeyForm) ([]string, error) {
	names := func(s []qwoty.Scope) []string {
		out := make([]string, len(s))
		for i, x := range s {
			out[i] = string(x)
		}
		return out
	}
	switch f.Access {
	case templates.AccessReadOnly:
		return names(qwoty.ReadOnlyScopes), nil
	case templates.AccessFull:
		return names(qwoty.Scopes), nil
	case templates.AccessCustom:
		return f.Scopes, nil // qwoty.ParseScopes checks them
	}
	return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "access", Message: "pick the key's access",
		Hint: "Read-only, Full access, or pick the scopes."}
}

// formExpiry reads the form's date: the key expires at its 00:00 UTC.
func formExpiry(s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil || d.Year() > 9999 {
		return nil, &qwoty.Error{Code: qwoty.CodeValidation, Field: "expires_at", Message: "the expiry is not a date",
			Hint: "Pick a date (YYYY-MM-DD), or none for a key that does not expire."}
	}
	return &d, nil
}

// apiKeyRevokeConfirm asks before revoking.
func (con *Console) apiKeyRevokeConfirm(c *gin.Context) {
	v, _, err := con.apiKeysView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	for _, k := range v.Keys {
		if k.ID == c.Param("id") && k.RevokedAt == nil {
			web.Render(c, http.StatusOK, templates.APIKeyRevoke(templates.APIKeyRevokeView{ConsolePage: v.ConsolePage,
				CRMName: v.CRMName, Provider: v.Provider, Key: k}))
			return
		}
	}
	con.fail(c, qwoty.Errorf(qwoty.CodeNotFound, "Open Settings → Integrations → API keys and pick the key there.",
		"this connection has no such active API key"))
}

// apiKeyRevoke revokes, from the confirmation's form only (any other post
// is sent to the confirmation).
func (con *Console) apiKeyRevoke(c *gin.Context) {
	in := adapterOf(c).Info()
	page := "/settings/integrations/" + string(in.Provider) + "/api-keys"
	if c.PostForm("confirm") != "revoke" {
		c.Redirect(http.StatusSeeOther, page+"/"+c.Param("id")+"/revoke")
		return
	}
	conn, err := con.activeConnection(c, in.Provider)
	if err == nil {
		err = con.db.RevokeAPIKey(c.Request.Context(), conn.WorkspaceID, conn.ID, c.Param("id"), sessionOf(c).User.Email)
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, page+"?done=api-key-revoked&crm="+string(in.Provider))
}
