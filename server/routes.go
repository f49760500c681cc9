package server

import (
	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/api"
	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/crm/hubspot"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// routes is the application's whole route table: the card and the CRM
// endpoints here, the console's in console/routes.go.
func (s *Server) routes() *gin.Engine {
	r := web.NewEngine(s.log, s.errs, web.API, s.cfg.TrustedProxies)

	r.GET("/", s.home)
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/static/*path", web.StaticFiles())

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

	// HubSpot's app webhooks, signed like its card (crm/hubspot/webhook.go).
	r.POST(hubspot.WebhookPath, s.hubspotWebhooks)

	// The card page each CRM frames, opened with an embed token: one page
	// for every registered CRM (/embed/salesforce/card, /embed/hubspot/card,
	// ...). Pipedrive's custom panel opens its own with Pipedrive's signed
	// launch, and recovers an expired card with the SDK's token.
	r.GET("/embed/:provider/card", s.cardShow)
	r.GET("/embed/pipedrive/card", s.launchCard(qwoty.ProviderPipedrive))
	r.POST("/embed/pipedrive/session", s.panelSession(qwoty.ProviderPipedrive))

	// CRMs' change notifications, authenticated per connection.
	r.POST("/webhooks/pipedrive/:connection", s.pipedriveWebhook)

	// The card's actions, authorised by the page token (bearer header).
	card := r.Group("/embed/api", s.pageAuth, web.FormInput(s.fail))
	card.POST("/session/refresh", s.sessionRefresh)
	card.GET("/quotes", s.quoteList)
	card.POST("/quotes", s.quoteCreate)
	card.GET("/quotes/:quote", s.quoteShow)
	card.PUT("/quotes/:quote/terms", s.quoteTerms)
	card.POST("/quotes/:quote/status", s.quoteStatus)
	card.POST("/quotes/:quote/revise", s.quoteRevise)
	card.GET("/quotes/:quote/versions", s.quoteVersions)
	card.GET("/quotes/:quote/versions/diff", s.quoteVersionDiff)
	card.POST("/quotes/:quote/lines", s.lineAdd)
	card.GET("/quotes/:quote/lines/:line", s.lineShow)
	card.PUT("/quotes/:quote/lines/:line", s.lineUpdate)
	card.DELETE("/quotes/:quote/lines/:line", s.lineRemove)
	card.DELETE("/quotes/:quote", s.quoteDelete)
	card.POST("/quotes/:quote/primary", s.quotePrimary)
	card.POST("/quotes/:quote/sync/retry", s.quoteRetry)
	card.GET("/quotes/:quote/catalog", s.catalogSearch)
	card.POST("/quotes/:quote/sync/now", s.quoteSyncNow)
	card.GET("/quotes/:quote/send", s.quoteSendForm)
	card.POST("/quotes/:quote/send", s.quoteSend)
	card.GET("/quotes/:quote/history", s.quoteHistory)
	card.GET("/quotes/:quote/pdf", s.quotePDF)
	card.GET("/quotes/:quote/order", s.quoteOrder)
	card.POST("/quotes/:quote/order/status", s.quoteOrderStatus)

	// The customer's page of a sent quote, opened from the email's link
	// (docs/customer-page.md): no login, no cookie.
	s.customerRoutes(r)

	// The development mailbox: the alert email `make run` sends.
	if s.devMail != nil {
		h := gin.WrapH(s.devMail)
		r.GET("/dev/mail", h)
		r.GET("/dev/mail/*id", h)
	}

	// The public REST API, authorised by API keys (api/api.go).
	api.Mount(r, api.Deps{DB: s.db, Errors: s.errs, Logger: s.log, Now: s.now, Production: s.cfg.Env == config.Production,
		RateLimit: s.cfg.APIRateLimit})

	// The admin console (console/routes.go lists its routes).
	s.console.Register(r)

	r.NoRoute(s.noRoute)
	r.NoMethod(s.noMethod)
	return r
}
