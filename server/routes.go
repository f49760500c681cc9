package server

import (
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
)

// routes is the application's whole route table.
func (s *Server) routes() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	// gin's own redirects skip the middleware below; NoRoute redirects
	// instead (route_redirect.go).
	r.RedirectTrailingSlash = false
	r.RedirectFixedPath = false
	r.ContextWithFallback = true
	// The client address (logs, login throttle) is the peer's, or the
	// X-Forwarded-For that a configured proxy (QWOTY_TRUSTED_PROXIES) sets;
	// never a header anyone can send. config.Load validated the CIDRs.
	_ = r.SetTrustedProxies(s.cfg.TrustedProxies)
	r.Use(s.requestID, s.accessLog, s.recover, secureHeaders)

	r.GET("/", s.home)
	r.GET("/console", s.consoleEntry)
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/static/*path", staticFiles())

	// Signed calls from CRMs (contracts.md §1, §2), each verified by its
	// CRM's adapter: a CRM with a contract of its own has its own route; a
	// card that fetches with a signed GET calls /api/crm/{provider}/card
	// (HubSpot's hubspot.fetch: /api/crm/hubspot/card), answered for the
	// adapters that are crm.CardFetchers and 404 for any other provider.
	crm := r.Group("/api/crm")
	crm.POST("/cardView", s.cardView(qwoty.ProviderSalesforce))
	crm.POST("/ping", s.cardPing(qwoty.ProviderSalesforce))
	crm.GET("/pipedrive/panel", s.panelCard(qwoty.ProviderPipedrive))
	crm.GET("/:provider/card", s.fetchCard)

	// The card page each CRM frames, opened with an embed token: one page
	// for every registered CRM (/embed/salesforce/card, /embed/hubspot/card,
	// ...). Pipedrive's custom panel opens its own with Pipedrive's signed
	// launch, and recovers an expired card with the SDK's token.
	r.GET("/embed/:provider/card", s.cardShow)
	r.GET("/embed/pipedrive/card", s.launchCard(qwoty.ProviderPipedrive))
	r.POST("/embed/pipedrive/session", s.panelSession(qwoty.ProviderPipedrive))

	// The card's actions, authorised by the page token (bearer header).
	api := r.Group("/embed/api", s.pageAuth, formInput(s.fail))
	api.POST("/session/refresh", s.sessionRefresh)
	api.GET("/quotes", s.quoteList)
	api.POST("/quotes", s.quoteCreate)
	api.GET("/quotes/:quote", s.quoteShow)
	api.PUT("/quotes/:quote/terms", s.quoteTerms)
	api.POST("/quotes/:quote/status", s.quoteStatus)
	api.POST("/quotes/:quote/lines", s.lineAdd)
	api.PUT("/quotes/:quote/lines/:line", s.lineUpdate)
	api.DELETE("/quotes/:quote/lines/:line", s.lineRemove)

	// The admin console: first-party session cookie, CSRF token on every form.
	console := r.Group("", s.consoleSession, formInput(s.consoleFail))
	console.GET("/login", s.loginShow)
	console.POST("/login", s.sameOrigin, s.loginSubmit)
	console.GET("/setup", s.setupShow)
	console.POST("/setup", s.sameOrigin, s.setupSubmit)
	member := console.Group("", s.requireLogin, s.requireCSRF)
	member.POST("/logout", s.logout)
	member.GET("/settings/integrations", s.integrationsShow)
	member.GET("/settings/users", s.usersShow)
	member.POST("/settings/integrations/salesforce/test", s.requireTester, s.salesforceTest)
	admin := member.Group("", s.requireAdmin)
	admin.GET("/settings/audit", s.auditShow)
	admin.POST("/settings/users", s.userAdd)
	admin.GET("/settings/integrations/salesforce/install", s.salesforceInstall)
	admin.POST("/settings/integrations/salesforce/connect", s.salesforceConnect)
	admin.GET(SalesforceCallbackPath, s.salesforceCallback)
	admin.POST("/settings/integrations/salesforce/rotate", s.salesforceRotate)
	admin.GET("/settings/integrations/salesforce/disconnect", s.disconnectConfirm(qwoty.ProviderSalesforce))
	admin.POST("/settings/integrations/salesforce/disconnect", s.confirmed(qwoty.ProviderSalesforce), s.salesforceDisconnect)
	for _, p := range []qwoty.Provider{qwoty.ProviderHubSpot, qwoty.ProviderPipedrive} {
		admin.POST("/settings/integrations/"+string(p)+"/connect", s.crmConnect(p))
		admin.GET("/oauth/"+string(p)+"/callback", s.crmCallback(p))
		admin.GET("/settings/integrations/"+string(p)+"/disconnect", s.disconnectConfirm(p))
		admin.POST("/settings/integrations/"+string(p)+"/disconnect", s.confirmed(p), s.connectionDisconnect(p))
	}

	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)
	return r
}
