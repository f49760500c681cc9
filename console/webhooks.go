package console

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
	"github.com/qwoty/companion/webhooks"
)

// A connection's webhooks, as an admin keeps them: subscriptions (checked
// and saved by package webhooks, as the API does), their secrets shown
// once, and the delivery log with its filters and Redeliver buttons.

func (con *Console) webhookPolicy() webhooks.Policy {
	return webhooks.Policy{Development: con.cfg.Env != config.Production}
}

// webhooksView reads the page: the subscriptions and the delivery log as
// the query filters it.
func (con *Console) webhooksView(c *gin.Context) (templates.WebhooksView, *qwoty.Connection, error) {
	ctx := c.Request.Context()
	in := adapterOf(c).Info()
	v := templates.WebhooksView{ConsolePage: con.page(c), CRMName: in.Name, Provider: in.Provider,
		Development: con.webhookPolicy().Development, Form: templates.WebhookForm{Enabled: true}}
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		return v, nil, err
	}
	if v.Subscriptions, err = con.db.WebhookSubscriptions(ctx, conn.WorkspaceID, conn.ID); err != nil {
		return v, nil, err
	}
	v.Log = templates.WebhookLogFilter{Subscription: c.Query("subscription"), State: c.Query("state"), EventType: c.Query("event")}
	f := store.WebhookDeliveryFilter{SubscriptionID: v.Log.Subscription, State: qwoty.WebhookDeliveryState(v.Log.State),
		EventType: qwoty.EventType(v.Log.EventType), After: c.Query("cursor"), Limit: 50}
	ds, more, err := con.db.WebhookDeliveries(ctx, conn.WorkspaceID, conn.ID, f)
	if err != nil {
		return v, nil, err
	}
	v.Deliveries = ds
	if more {
		v.NextCursor = ds[len(ds)-1].ID
	}
	return v, conn, nil
}

func (con *Console) webhooksShow(c *gin.Context) {
	v, _, err := con.webhooksView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Notice = webhooksNotice(c.Query("done"))
	web.Render(c, http.StatusOK, templates.Webhooks(v))
}

// webhooksNotice is the confirmation a redirect asks for: fixed texts only.
func webhooksNotice(done string) string {
	switch done {
	case "saved":
		return "The subscription is saved."
	case "deleted":
		return "The subscription is deleted, with its deliveries."
	case "redelivered":
		return "The delivery is queued again, with the same webhook-id."
	case "redelivered-none":
		return "No failed delivery to send again."
	case "tested":
		return "A test event (webhook.test) is queued: its delivery is at the top of the log below."
	case "redelivered-all":
		return "The failed deliveries are queued again (1000 at most at a time), each with its own webhook-id."
	}
	return ""
}

// webhookEdit is the form of one subscription, filled with it.
func (con *Console) webhookEdit(c *gin.Context) {
	v, _, err := con.webhooksView(c)
	if err == nil {
		err = editingWebhook(&v, c.Param("id"))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Form = templates.WebhookFormOf(*v.Editing)
	web.Render(c, http.StatusOK, templates.Webhooks(v))
}

func editingWebhook(v *templates.WebhooksView, id string) error {
	for i := range v.Subscriptions {
		if v.Subscriptions[i].ID == id {
			v.Editing = &v.Subscriptions[i]
			return nil
		}
	}
	return qwoty.Errorf(qwoty.CodeNotFound, "Pick a subscription from the list.", "this connection has no webhook subscription %s", id)
}

// webhookSave creates a subscription (its secret shown once, on the page
// it answers with) or saves the edited one; a refusal shows the form as
// typed with the reason.
func (con *Console) webhookSave(c *gin.Context) {
	v, conn, err := con.webhooksView(c)
	if err == nil && c.Param("id") != "" {
		err = editingWebhook(&v, c.Param("id"))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Form = templates.WebhookForm{URL: c.PostForm("url"), Description: c.PostForm("description"), CustomerID: c.PostForm("customer"),
		EventTypes: c.PostFormArray("event"), Statuses: c.PostFormArray("status"), Enabled: c.PostForm("enabled") == "on"}
	in := store.WebhookSubscriptionInput{URL: v.Form.URL, Description: v.Form.Description, Enabled: v.Form.Enabled,
		WebhookFilter: qwoty.WebhookFilter{CustomerID: v.Form.CustomerID}}
	for _, t := range v.Form.EventTypes {
		in.EventTypes = append(in.EventTypes, qwoty.EventType(t))
	}
	for _, s := range v.Form.Statuses {
		in.Statuses = append(in.Statuses, qwoty.Status(s))
	}
	ctx := c.Request.Context()
	p := con.webhookPolicy()
	if v.Editing != nil {
		_, err = p.Update(ctx, con.db, conn.WorkspaceID, conn.ID, v.Editing.ID, in)
		if err == nil {
			c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(v.Provider)+"/webhooks?done=saved")
			return
		}
	} else {
		var s *qwoty.WebhookSubscription
		var secret string
		s, secret, err = p.Create(ctx, con.db, conn.WorkspaceID, conn.ID, sessionOf(c).User.Email, in)
		if err == nil {
			con.showSecret(c, s.ID, secret, "The subscription is added.")
			return
		}
	}
	e := qwoty.AsError(err)
	if e.Code == qwoty.CodeInternal {
		con.fail(c, err)
		return
	}
	v.Error = formError(e)
	web.Render(c, qwoty.HTTPStatus(e.Code), templates.Webhooks(v))
}

// showSecret answers with the page and a secret just made: it is not
// kept in clear anywhere, so it is shown in this answer and never again
// (no redirect, whose next page could not show it).
func (con *Console) showSecret(c *gin.Context, subscriptionID, secret, notice string) {
	v, _, err := con.webhooksView(c)
	if err != nil {
		con.fail(c, err)
		return
	}
	v.Secret, v.SecretFor, v.Notice = secret, subscriptionID, notice
	c.Header("Cache-Control", "no-store")
	web.Render(c, http.StatusOK, templates.Webhooks(v))
}

func (con *Console) webhookRotate(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	s, secret, err := webhooks.Rotate(c.Request.Context(), con.db, conn.WorkspaceID, conn.ID, c.Param("id"))
	if err != nil {
		con.fail(c, err)
		return
	}
	con.showSecret(c, s.ID, secret, "The secret is rotated: deliveries are signed with the new one and, for 24 hours, the previous one too.")
}

func (con *Console) webhookDelete(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err == nil {
		err = con.db.DeleteWebhookSubscription(c.Request.Context(), conn.WorkspaceID, conn.ID, c.Param("id"))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(in.Provider)+"/webhooks?done=deleted")
}

func (con *Console) webhookRedeliver(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err == nil {
		err = con.db.RedeliverWebhook(c.Request.Context(), conn.WorkspaceID, conn.ID, c.Param("id"))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(in.Provider)+"/webhooks?done=redelivered#deliveries")
}

// webhookTest sends a test event to one subscription.
func (con *Console) webhookTest(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err == nil {
		_, err = con.db.SendTestEvent(c.Request.Context(), conn.WorkspaceID, conn.ID, c.Param("id"))
	}
	if err != nil {
		con.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(in.Provider)+"/webhooks?done=tested#deliveries")
}

func (con *Console) webhookRedeliverFailed(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	sub := strings.TrimSpace(c.PostForm("subscription"))
	n, err := con.db.RedeliverFailedWebhooks(c.Request.Context(), conn.WorkspaceID, conn.ID, sub)
	if err != nil {
		con.fail(c, err)
		return
	}
	done := "redelivered-all"
	if n == 0 {
		done = "redelivered-none"
	}
	c.Redirect(http.StatusSeeOther, "/settings/integrations/"+string(in.Provider)+"/webhooks?done="+done+"#deliveries")
}
