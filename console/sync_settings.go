package console

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/notify"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/templates"
	"github.com/qwoty/companion/web"
)

// A connection's sync settings, as an admin changes them: which changes
// are pushed, how long an edit waits for the next, the share of a daily
// API allocation sync may use, where alerts go, and when a quote made
// without a CRM record makes its deal and how its customer's account is
// found (docs/deals.md). The stage map keeps its defaults here (a later
// issue edits it).

// Bounds of the form's numbers (sync_settings' checks).
const (
	maxCoalesceSeconds = 3600
	maxAlertEmails     = 20
)

// syncSettingsShow is the form, filled with the connection's settings.
func (con *Console) syncSettingsShow(c *gin.Context) {
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	set, err := con.db.SyncSettingsOf(c.Request.Context(), conn.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	v := settingsView(con.page(c), in.Name, in.Provider, set)
	v.Plans, v.Plan, v.Seats = in.Plans, conn.Plan, ""
	if conn.Seats > 0 {
		v.Seats = strconv.Itoa(conn.Seats)
	}
	web.Render(c, http.StatusOK, templates.SyncSettings(v))
}

// maxSeats bounds the seats an admin says (connections.crm_seats).
const maxSeats = 100000

// readPlan reads the plan and seats of a CRM that asks for them: a plan
// of in.Plans (or none) and, with a plan, 1 to maxSeats seats.
func readPlan(c *gin.Context, plans []crm.Link) (string, int, error) {
	plan := c.PostForm("plan")
	if plan == "" {
		return "", 0, nil
	}
	if !slices.ContainsFunc(plans, func(l crm.Link) bool { return l.Name == plan }) {
		return "", 0, &qwoty.Error{Code: qwoty.CodeValidation, Field: "plan", Message: "pick a plan from the list", Hint: "The plan is on the CRM's billing page."}
	}
	seats, err := strconv.Atoi(strings.TrimSpace(c.PostForm("seats")))
	if err != nil || seats < 1 || seats > maxSeats {
		return "", 0, &qwoty.Error{Code: qwoty.CodeValidation, Field: "seats", Message: "the seats must be a whole number from 1 to 100000",
			Hint: "Count the paid seats on the CRM's billing page."}
	}
	return plan, seats, nil
}

func settingsView(p templates.ConsolePage, name string, provider qwoty.Provider, set *store.SyncSettings) templates.SyncSettingsView {
	return templates.SyncSettingsView{ConsolePage: p, CRMName: name, Provider: provider, Triggers: set.Triggers,
		CoalesceSeconds: strconv.Itoa(int(set.Coalesce / time.Second)), SharePercent: strconv.Itoa(int(set.BudgetShare*100 + 0.5)),
		AlertEmails: strings.Join(set.AlertEmails, "\n"), SlackSet: set.SlackWebhook != "",
		DealStatus: string(set.DealStatus), AccountMatch: string(set.AccountMatch)}
}

// syncSettingsSave checks the form whole, then saves it (audited) and
// queues what waits, in case a trigger was turned back on.
func (con *Console) syncSettingsSave(c *gin.Context) {
	ctx := c.Request.Context()
	in := adapterOf(c).Info()
	conn, err := con.activeConnection(c, in.Provider)
	if err != nil {
		con.fail(c, err)
		return
	}
	set, err := con.db.SyncSettingsOf(ctx, conn.ID)
	if err != nil {
		con.fail(c, err)
		return
	}
	err = readSyncSettings(c, set)
	var plan string
	var seats int
	if err == nil && len(in.Plans) > 0 {
		plan, seats, err = readPlan(c, in.Plans)
	}
	if err != nil {
		p := con.page(c)
		e := qwoty.AsError(err)
		p.Error = formError(e)
		v := settingsView(p, in.Name, in.Provider, set)
		// What the admin typed comes back as typed (never the webhook).
		v.Triggers, v.CoalesceSeconds, v.SharePercent, v.AlertEmails = c.PostFormArray("trigger"), c.PostForm("coalesce"), c.PostForm("share"), c.PostForm("alert_emails")
		v.Plans, v.Plan, v.Seats = in.Plans, c.PostForm("plan"), c.PostForm("seats")
		if d, ok := c.GetPostForm("deal_status"); ok {
			v.DealStatus = d
		}
		if m, ok := c.GetPostForm("account_match"); ok {
			v.AccountMatch = m
		}
		web.Render(c, qwoty.HTTPStatus(e.Code), templates.SyncSettings(v))
		return
	}
	if err := con.db.SaveSyncSettings(ctx, conn.WorkspaceID, conn.ID, set, sessionOf(c).User.Email); err != nil {
		con.fail(c, err)
		return
	}
	if len(in.Plans) > 0 && (plan != conn.Plan || seats != conn.Seats) {
		if err := con.db.SetAccountPlan(ctx, conn.WorkspaceID, conn.ID, plan, seats, sessionOf(c).User.Email); err != nil {
			con.fail(c, err)
			return
		}
	}
	if err := con.db.KickSync(ctx, conn.ID); err != nil {
		con.log.WarnContext(ctx, "queueing waiting records after a settings change failed", "connection_id", conn.ID, "error", err.Error())
	}
	done(c, "sync-settings", in.Provider)
}

// readSyncSettings reads the form into set, refusing what sync_settings
// would not hold: unknown triggers, numbers out of range, a webhook that
// is not Slack's, addresses that are not email, a deal status or account
// match that is not a choice. A form without the deal fields (one
// rendered before they existed) keeps them as they are.
func readSyncSettings(c *gin.Context, set *store.SyncSettings) error {
	triggers := []string{}
	for _, t := range c.PostFormArray("trigger") {
		if !slices.Contains(qwoty.SyncTriggers, t) {
			return qwoty.Errorf(qwoty.CodeBadRequest, "Tick the changes to push from the list.", "%q is not a sync trigger", t)
		}
		if !slices.Contains(triggers, t) {
			triggers = append(triggers, t)
		}
	}
	coalesce, err := strconv.Atoi(strings.TrimSpace(c.PostForm("coalesce")))
	if err != nil || coalesce < 0 || coalesce > maxCoalesceSeconds {
		return &qwoty.Error{Code: qwoty.CodeValidation, Field: "coalesce", Message: "the wait for more edits must be a whole number of seconds from 0 to 3600",
			Hint: "5 seconds turns a rep's burst of edits into one push."}
	}
	share, err := strconv.Atoi(strings.TrimSpace(c.PostForm("share")))
	if err != nil || share < 1 || share > 100 {
		return &qwoty.Error{Code: qwoty.CodeValidation, Field: "share", Message: "the share of the daily API allowance must be a whole percentage from 1 to 100",
			Hint: "Other integrations of the CRM account use the same allowance: leave them room."}
	}
	var emails []string
	for _, f := range strings.FieldsFunc(c.PostForm("alert_emails"), func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' || r == ' ' }) {
		e, err := qwoty.ParseEmail(f)
		if err != nil {
			return err
		}
		if !slices.Contains(emails, e) {
			emails = append(emails, e)
		}
	}
	if len(emails) > maxAlertEmails {
		return &qwoty.Error{Code: qwoty.CodeValidation, Field: "alert_emails", Message: "at most 20 addresses receive alerts",
			Hint: "Use a mailing list's address for more people."}
	}
	slack := set.SlackWebhook
	switch raw := strings.TrimSpace(c.PostForm("slack")); {
	case c.PostForm("slack_remove") == "true":
		slack = ""
	case raw != "":
		if err := notify.ValidSlackWebhook(raw); err != nil {
			// The message never repeats the URL: it is a secret.
			return &qwoty.Error{Code: qwoty.CodeValidation, Field: "slack", Message: err.Error(), Hint: "Paste the URL Slack shows under Incoming Webhooks."}
		}
		slack = raw
	}
	deal, match := set.DealStatus, set.AccountMatch
	if raw, ok := c.GetPostForm("deal_status"); ok {
		if deal, err = qwoty.ParseDealStatus(raw); err != nil {
			return &qwoty.Error{Code: qwoty.CodeValidation, Field: "deal_status", Message: "choose when a quote without a CRM deal makes its deal from the list",
				Hint: "\"When the quote is sent\" is the default.", Err: err}
		}
	}
	if raw, ok := c.GetPostForm("account_match"); ok {
		if match, err = qwoty.ParseAccountMatch(raw); err != nil {
			return &qwoty.Error{Code: qwoty.CodeValidation, Field: "account_match", Message: "find the customer's account by its name or its domain",
				Hint: "Choose name or domain from the list.", Err: err}
		}
	}
	set.Triggers, set.Coalesce, set.BudgetShare = triggers, time.Duration(coalesce)*time.Second, float64(share)/100
	set.DealStatus, set.AccountMatch = deal, match
	set.AlertEmails, set.SlackWebhook = emails, slack
	return nil
}
