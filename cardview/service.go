package cardview

import (
	"context"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
)

// Card answers a CRM's signed card request, whichever CRM: its adapter
// verifies it (the only part that differs per CRM), then the service
// claims it once, upserts the customer, lists the record's quotes, and
// issues the embed URL.
func (s *Service) Card(ctx context.Context, provider qwoty.Provider, req crm.SignedRequest) (*Answer, error) {
	a, err := s.adapter(provider)
	if err != nil {
		return nil, err
	}
	now := s.now()
	stage := metrics.CardCallout()
	ec, once, err := a.Verify(ctx, s.conns, req, now)
	if err != nil {
		return nil, err
	}
	stage.Mark(metrics.StageSignature)
	return s.answer(ctx, a, ec, once, now, &stage)
}

// adapter is provider's adapter; a provider this server does not register
// is not_configured.
func (s *Service) adapter(p qwoty.Provider) (crm.Adapter, error) {
	a, ok := s.crms.Get(p)
	if !ok {
		return nil, qwoty.Errorf(qwoty.CodeNotConfigured, "This Qwoty server does not serve this CRM.", "%s is not served by this server", p.Title())
	}
	return a, nil
}

// Adapter returns provider's adapter, if this server registers it.
func (s *Service) Adapter(p qwoty.Provider) (crm.Adapter, bool) { return s.crms.Get(p) }
