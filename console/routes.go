package console

import (
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/web"
)

// Register adds every route of the console to r, one a line.
func (con *Console) Register(r gin.IRouter) {
	sameOrigin := web.SameOrigin(con.cfg.AppURL, con.fail)
	r.GET("/console", con.entry)

	// The session cookie is read for every page; every form is read and
	// checked once (web.FormInput) before its handler.
	pages := r.Group("", con.session, web.FormInput(con.fail))
	pages.GET("/login", con.loginShow)
	pages.POST("/login", sameOrigin, con.loginSubmit)
	pages.GET("/setup", con.setupShow)
	pages.POST("/setup", sameOrigin, con.setupSubmit)
	// An invitation's link: unauthenticated, throttled per address.
	pages.GET(invitePath, con.inviteShow)
	pages.POST(invitePath, sameOrigin, con.inviteAccept)

	// Logged in, with the CSRF token on every form.
	member := pages.Group("", con.requireLogin, con.requireCSRF)
	member.POST("/logout", con.logout)
	member.GET("/settings/integrations", con.integrationsShow)
	member.GET("/settings/users", con.usersShow)
	member.GET("/quotes", con.quotesShow)
	member.GET("/quotes/:id", con.quoteShow)
	// A quote for a customer, without a CRM record (docs/deals.md).
	member.GET("/quotes/new", con.requireMember, con.quoteNewShow)
	member.POST("/quotes/new", con.requireMember, con.quoteCreate)
	member.GET("/quotes/:id/edit", con.requireMember, con.quoteEditShow)
	member.POST("/quotes/:id/edit", con.requireMember, con.quoteEditSave)
	member.GET("/quotes/:id/send", con.requireMember, con.quoteSendShow)
	member.POST("/quotes/:id/send", con.requireMember, con.quoteSend)
	member.POST("/quotes/:id/revise", con.requireMember, con.quoteRevise)
	member.GET("/quotes/:id/delete", con.requireMember, con.quoteDeleteConfirm)
	member.POST("/quotes/:id/delete", con.requireMember, con.quoteDelete)
	member.POST("/quotes/:id/retry-deal", con.requireAdmin, con.quoteRetryDeal)
	member.GET("/orders", con.ordersShow)
	member.GET("/orders/:id", con.orderShow)
	member.POST("/orders/:id/status", con.requireMember, con.orderStatus)
	member.GET("/settings/audit", con.requireAdmin, con.auditShow)
	member.GET(quoteDefaultsPath, con.quoteDefaultsShow)
	member.POST(quoteDefaultsPath, con.requireAdmin, con.quoteDefaultsSave)
	member.POST("/settings/invitations", con.requireAdmin, con.inviteAdd)
	member.POST("/settings/invitations/:id/resend", con.requireAdmin, con.inviteResend)
	member.POST("/settings/invitations/:id/revoke", con.requireAdmin, con.inviteRevoke)
	member.GET("/settings/customer-page", con.requireAdmin, con.customerPageShow)
	member.GET("/settings/customer-page/logo", con.requireAdmin, con.customerLogoShow)
	member.POST("/settings/customer-page/remove", con.requireAdmin, con.customerLogoRemove)
	// The logo's upload reads its own, larger, multipart body.
	r.POST("/settings/customer-page", con.session, con.logoInput, con.requireLogin, con.requireCSRF, con.requireAdmin, con.customerLogoSave)

	// One CRM's connection, whichever CRM :provider names: one handler per
	// action for every CRM, through its adapter (404 for a CRM this server
	// does not serve).
	crm := pages.Group("", con.adapter, con.requireLogin, con.requireCSRF)
	crm.GET("/settings/integrations/:provider/install", con.requireAdmin, con.install)
	crm.POST("/settings/integrations/:provider/connect", con.requireAdmin, con.connect)
	crm.GET("/oauth/:provider/callback", con.requireAdmin, con.callback)
	crm.POST("/settings/integrations/:provider/test", con.requireTester, con.test)
	crm.POST("/settings/integrations/:provider/rotate", con.requireAdmin, con.rotate)
	crm.GET("/settings/integrations/:provider/disconnect", con.requireAdmin, con.disconnectConfirm)
	crm.POST("/settings/integrations/:provider/disconnect", con.requireAdmin, con.confirmed, con.disconnect)
	crm.GET("/settings/integrations/:provider/sync-log", con.requireMember, con.syncLogShow)
	crm.GET("/settings/integrations/:provider/sync-log/export.csv", con.requireMember, con.syncLogExport)
	crm.POST("/settings/integrations/:provider/sync-log/retry", con.requireAdmin, con.syncRetry)
	crm.GET("/settings/integrations/:provider/sync-settings", con.requireAdmin, con.syncSettingsShow)
	crm.POST("/settings/integrations/:provider/sync-settings", con.requireAdmin, con.syncSettingsSave)
	crm.GET("/settings/integrations/:provider/mappings", con.requireAdmin, con.mappingsShow)
	crm.POST("/settings/integrations/:provider/mappings", con.requireAdmin, con.mappingAdd)
	crm.GET("/settings/integrations/:provider/mappings/:id", con.requireAdmin, con.mappingEdit)
	crm.POST("/settings/integrations/:provider/mappings/:id", con.requireAdmin, con.mappingAdd)
	crm.POST("/settings/integrations/:provider/mappings/:id/delete", con.requireAdmin, con.mappingDelete)
	crm.GET("/settings/integrations/:provider/conflicts", con.requireAdmin, con.conflictsShow)
	crm.POST("/settings/integrations/:provider/conflicts/:id", con.requireAdmin, con.conflictResolve)
	crm.GET("/settings/integrations/:provider/backfill", con.requireAdmin, con.backfillConfirm)
	crm.POST("/settings/integrations/:provider/backfill", con.requireAdmin, con.backfillStart)
	crm.POST("/settings/integrations/:provider/backfill/cancel", con.requireAdmin, con.backfillCancel)
	crm.GET("/settings/integrations/:provider/backfill/progress", con.backfillProgress)
	crm.POST("/settings/integrations/:provider/sync-now", con.requireAdmin, con.syncNow)
	crm.GET("/settings/integrations/:provider/api-keys", con.requireAdmin, con.apiKeysShow)
	crm.POST("/settings/integrations/:provider/api-keys", con.requireAdmin, con.apiKeyCreate)
	crm.GET("/settings/integrations/:provider/api-keys/:id/revoke", con.requireAdmin, con.apiKeyRevokeConfirm)
	crm.POST("/settings/integrations/:provider/api-keys/:id/revoke", con.requireAdmin, con.apiKeyRevoke)
	crm.GET("/settings/integrations/:provider/webhooks", con.requireAdmin, con.webhooksShow)
	crm.POST("/settings/integrations/:provider/webhooks", con.requireAdmin, con.webhookSave)
	crm.POST("/settings/integrations/:provider/webhooks/redeliver-failed", con.requireAdmin, con.webhookRedeliverFailed)
	crm.POST("/settings/integrations/:provider/webhooks/deliveries/:id/redeliver", con.requireAdmin, con.webhookRedeliver)
	crm.GET("/settings/integrations/:provider/webhooks/:id", con.requireAdmin, con.webhookEdit)
	crm.POST("/settings/integrations/:provider/webhooks/:id", con.requireAdmin, con.webhookSave)
	crm.POST("/settings/integrations/:provider/webhooks/:id/rotate", con.requireAdmin, con.webhookRotate)
	crm.POST("/settings/integrations/:provider/webhooks/:id/test", con.requireAdmin, con.webhookTest)
	crm.POST("/settings/integrations/:provider/webhooks/:id/delete", con.requireAdmin, con.webhookDelete)
}
