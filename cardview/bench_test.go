package cardview

import (
	"bytes"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The pieces of the /api/crm/cardView hot path that run in Go, for
// `make bench` (the callout's verification is crm/salesforce's). The whole path, with the database, is measured by
// cmd/qwoty-load.

func benchContext() crm.EmbedContext {
	return crm.EmbedContext{Provider: qwoty.ProviderSalesforce, ConnectionID: "8d1f4c2e-3b7a-4f3e-9c1d-2a6b5e4f7c80",
		WorkspaceID: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", AccountID: "00D5g000004XyZaEAK",
		User:   crm.User{ID: "0055g00000XyZabAAF", Email: "rep@acme.com", Name: "Rep Name", Locale: "en_US", TimeZone: "Europe/Paris"},
		Record: crm.Record{Type: "Opportunity", ID: "0065g00000AbCdEAAV", Name: "Acme - 200 licences", AccountID: "0015g00000QwErTAAV", AccountName: "Acme", Currency: "USD"}}
}

func BenchmarkIssueEmbedToken(b *testing.B) {
	tk := NewTokens(time.Now, Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	ec := benchContext()
	b.ReportAllocs()
	for b.Loop() {
		if tok, _ := tk.Issue(ec, AudienceEmbed, EmbedTTL); tok == "" {
			b.Fatal("no token")
		}
	}
}

func BenchmarkParsePageToken(b *testing.B) {
	tk := NewTokens(time.Now, Key{ID: "k1", Secret: bytes.Repeat([]byte{1}, 32)})
	tok, _ := tk.Issue(benchContext(), AudiencePage, PageTTL)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tk.Parse(tok, AudiencePage); err != nil {
			b.Fatal(err)
		}
	}
}
