package salesforce

import (
	"context"
	"testing"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The callout's verification on the /api/crm/cardView hot path, for
// `make bench`. The whole path, with the database, is measured by
// cmd/qwoty-load.

func BenchmarkVerifyCallout(b *testing.B) {
	v := loadVectors(b)[0]
	conn := &qwoty.Connection{ID: "c", WorkspaceID: "w", ExternalID: v.OrgID, Status: qwoty.ConnectionActive, Secret: []byte(v.Secret)}
	req := crm.SignedRequest{Method: "POST", Path: "/api/crm/cardView", Header: headersOf(v), Body: []byte(v.Body)}
	now := time.Unix(1763805600, 0)
	lookup := mapLookup{v.OrgID: conn}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := VerifyCallout(context.Background(), lookup, req, now); err != nil {
			b.Fatal(err)
		}
	}
}
