package webhooks

import (
	"context"
	"strings"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Subscriptions are managed the same way from the API and the console:
// checked here (the domain's rules and the server's URL policy), secrets
// made here, and saved by the store.

// CheckInput checks and normalises what an admin sets of a subscription.
func (p Policy) CheckInput(in store.WebhookSubscriptionInput) (store.WebhookSubscriptionInput, error) {
	f, err := qwoty.CheckWebhookFilter(in.WebhookFilter)
	if err != nil {
		return in, err
	}
	in.WebhookFilter = f
	if in.Description, err = qwoty.CheckWebhookDescription(in.Description); err != nil {
		return in, err
	}
	in.URL = strings.TrimSpace(in.URL)
	if len(in.URL) > qwoty.MaxWebhookURL {
		return in, &qwoty.Error{Code: qwoty.CodeValidation, Field: "url", Message: "a URL has at most 2000 characters",
			Hint: "Give the receiver's URL without long query strings."}
	}
	if err := p.CheckURL(in.URL); err != nil {
		hint := "Give a public https URL of your receiver."
		if p.Development {
			hint = "Give an http(s) URL of your receiver; this development server also accepts loopback."
		}
		return in, &qwoty.Error{Code: qwoty.CodeValidation, Field: "url", Message: err.Error(), Hint: hint}
	}
	return in, nil
}

// Create checks in and creates the subscription with a new secret, which
// it returns: the only time it is shown.
func (p Policy) Create(ctx context.Context, db *store.DB, workspaceID, connectionID, by string, in store.WebhookSubscriptionInput) (*qwoty.WebhookSubscription, string, error) {
	in, err := p.CheckInput(in)
	if err != nil {
		return nil, "", err
	}
	secret := NewSecret()
	s, err := db.CreateWebhookSubscription(ctx, workspaceID, connectionID, by, in, secret)
	if err != nil {
		return nil, "", err
	}
	return s, secret, nil
}

// Update checks in and replaces the subscription's settings.
func (p Policy) Update(ctx context.Context, db *store.DB, workspaceID, connectionID, id string, in store.WebhookSubscriptionInput) (*qwoty.WebhookSubscription, error) {
	in, err := p.CheckInput(in)
	if err != nil {
		return nil, err
	}
	return db.UpdateWebhookSubscription(ctx, workspaceID, connectionID, id, in)
}

// Rotate gives the subscription a new secret, returned once; the old one
// signs too for qwoty.WebhookRotationOverlap.
func Rotate(ctx context.Context, db *store.DB, workspaceID, connectionID, id string) (*qwoty.WebhookSubscription, string, error) {
	secret := NewSecret()
	s, err := db.RotateWebhookSecret(ctx, workspaceID, connectionID, id, secret)
	if err != nil {
		return nil, "", err
	}
	return s, secret, nil
}
