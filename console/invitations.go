package console

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/password"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// Invitations: an admin invites someone by email with a role; the email's
// link (single use, store.InvitationTTL) opens a page where the invitee
// chooses a name and password and is signed in. Admins never type or see
// another person's password.

// Mailer sends the console's emails (notify.Sender in the server).
type Mailer interface {
	SendInvitation(ctx context.Context, inv notify.Invitation) error
}

// invitePath is the accepting page; its token travels in the query, which
// the access log does not write.
const invitePath = "/invitation"

// inviteAdd invites an email with a role, and sends the invitation.
func (con *Console) inviteAdd(c *gin.Context) {
	role, ok := qwoty.ParseRole(c.PostForm("role"))
	if !ok {
		con.fail(c, qwoty.Errorf(qwoty.CodeValidation, "Choose admin, member or viewer.", "role %q is not a role", c.PostForm("role")))
		return
	}
	email, err := qwoty.ParseEmail(c.PostForm("email"))
	if err != nil {
		con.fail(c, err)
		return
	}
	admin := sessionOf(c).User
	token, inv, err := con.db.Invite(c.Request.Context(), admin.WorkspaceID, email, role, admin.Email)
	if err != nil {
		con.fail(c, err)
		return
	}
	inv.Workspace = admin.Workspace
	c.Redirect(http.StatusSeeOther, "/settings/users?done="+con.sendInvitation(c, token, inv))
}

// inviteResend makes a new link for an open invitation (the old one stops
// working) and sends it.
func (con *Console) inviteResend(c *gin.Context) {
	admin := sessionOf(c).User
	token, inv, err := con.db.ResendInvitation(c.Request.Context(), admin.WorkspaceID, c.Param("id"), admin.Email)
	if err != nil {
		con.fail(c, invitationGone(err))
		return
	}
	inv.Workspace = admin.Workspace
	c.Redirect(http.StatusSeeOther, "/settings/users?done="+con.sendInvitation(c, token, inv))
}

// inviteRevoke ends an open invitation.
func (con *Console) inviteRevoke(c *gin.Context) {
	admin := sessionOf(c).User
	if err := con.db.RevokeInvitation(c.Request.Context(), admin.WorkspaceID, c.Param("id"), admin.Email); err != nil {
		con.fail(c, invitationGone(err))
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/users?done=invitation-revoked")
}

// invitationGone words a missing invitation for the admin: accepted,
// revoked meanwhile, or another workspace's.
func invitationGone(err error) error {
	if errors.Is(err, qwoty.ErrNotFound) {
		return qwoty.Errorf(qwoty.CodeNotFound, "Reload Settings → Users.", "this invitation is not open any more: it was accepted or revoked")
	}
	return err
}

// sendInvitation emails the link and returns the notice to show: sent, or
// saved but not sent (the admin resends once mail works). The token is
// never logged.
func (con *Console) sendInvitation(c *gin.Context, token string, inv *store.Invitation) string {
	if con.mail == nil {
		return "invitation-unsent"
	}
	link := strings.TrimRight(con.cfg.AppURL, "/") + invitePath + "?token=" + url.QueryEscape(token)
	err := con.mail.SendInvitation(c.Request.Context(), notify.Invitation{To: inv.Email, WorkspaceName: inv.Workspace,
		InvitedBy: sessionOf(c).User.Email, Role: string(inv.Role), Link: link, Expires: inv.ExpiresAt})
	if err != nil {
		con.log.WarnContext(c.Request.Context(), "invitation email not sent", "request_id", web.RequestID(c), "invitation", inv.ID, "error", err.Error())
		return "invitation-unsent"
	}
	return "invited"
}

// inviteAllowed applies the throttle to an unauthenticated use of an
// invitation link (opening or accepting it): after a few wrong tokens from
// one address, that address waits, doubling (loginThrottle's rules, per
// address). It answers the request itself when refused.
func (con *Console) inviteAllowed(c *gin.Context) (addr string, ok bool) {
	addr = clientKey(c.ClientIP())
	if v := con.invites.check(addr, ""); v.wait > 0 {
		c.Header("Retry-After", strconv.Itoa(retrySeconds(v.wait)))
		con.fail(c, qwoty.Errorf(qwoty.CodeRateLimited, "Wait "+waitText(v.wait)+", then open the link from the email again.",
			"too many invitation links that do not work were tried from your network"))
		return addr, false
	}
	return addr, true
}

// invitation checks a link's token and counts a bad one against the
// address; it answers the request itself when the link does not work.
func (con *Console) invitation(c *gin.Context, addr, token string) *store.Invitation {
	inv, err := con.db.InvitationByToken(c.Request.Context(), token)
	if qwoty.ErrorCode(err) == qwoty.CodeInvitationInvalid {
		con.invites.fail(addr, "")
	}
	if err != nil {
		con.fail(c, err)
		return nil
	}
	return inv
}

// inviteShow is the invitee's page: who invited them where, and the form
// for their name and password.
func (con *Console) inviteShow(c *gin.Context) {
	addr, ok := con.inviteAllowed(c)
	if !ok {
		return
	}
	token := c.Query("token")
	inv := con.invitation(c, addr, token)
	if inv == nil {
		return
	}
	web.Render(c, http.StatusOK, templates.AcceptInvitation(templates.InvitationView{Token: token, Invitation: *inv}))
}

// inviteAccept creates the invitee's account from the form and signs them
// in. The token is checked before the password is hashed (an
// unauthenticated form must not cost an argon2 computation), and again,
// atomically, as the account is created.
func (con *Console) inviteAccept(c *gin.Context) {
	addr, ok := con.inviteAllowed(c)
	if !ok {
		return
	}
	token := c.PostForm("token")
	inv := con.invitation(c, addr, token)
	if inv == nil {
		return
	}
	v := templates.InvitationView{Token: token, Invitation: *inv, Name: strings.TrimSpace(c.PostForm("name"))}
	pw := c.PostForm("password")
	name, err := qwoty.ParseUserName(v.Name)
	switch {
	case err != nil:
		var qe *qwoty.Error
		errors.As(err, &qe)
		v.Error = qe.Message + ". " + qe.Hint
	case name == "":
		v.Error = "Give your name, as your colleagues know it."
	case pw != c.PostForm("password2"):
		v.Error = "The two passwords differ: type the same one twice."
	default:
		if err := password.Check(pw, inv.Email); err != nil {
			v.Error = web.Sentence(err.Error()) + "."
		}
	}
	if v.Error != "" {
		web.SetErrorCode(c, qwoty.CodeValidation)
		web.Render(c, http.StatusUnprocessableEntity, templates.AcceptInvitation(v))
		return
	}
	hash, err := con.hasher.Hash(c.Request.Context(), pw)
	if err != nil {
		con.hashFail(c, err)
		return
	}
	u, err := con.db.AcceptInvitation(c.Request.Context(), token, name, hash)
	if err != nil {
		con.fail(c, err)
		return
	}
	session, _, err := con.db.CreateSession(c.Request.Context(), u.ID, sessionTTL)
	if err != nil {
		con.fail(c, err)
		return
	}
	con.setSessionCookie(c, session, int(sessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, "/settings/integrations?done=welcome")
}
