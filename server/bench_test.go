package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm/salesforce"
	"github.com/qwoty/companion/store"
)

// BenchmarkCardView runs POST /api/crm/cardView through the real handler
// chain and database, side by side with a bare gin handler answering a fixed
// JSON of the same size, in one run (no network: the handler cost alone).
// cmd/qwoty-load measures the same over loopback HTTP with percentiles.
func BenchmarkCardView(b *testing.B) {
	a := newBenchApp(b)
	org := orgIDB(b, "00D0000000BENCH")
	conn, err := a.db.AddConnection(context.Background(), store.AddConnectionParams{Workspace: "Bench", Provider: "salesforce", ExternalID: org, MyDomain: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	payload := []byte(body(recordA, accountA, "Acme", "USD"))
	s := store.Scope{WorkspaceID: conn.WorkspaceID, ConnectionID: conn.ID, RecordID: recordA}
	for range 3 {
		if _, err := a.db.CreateQuote(context.Background(), s, store.NewQuote{Currency: "USD", Title: "Bench"}); err != nil {
			b.Fatal(err)
		}
	}
	signed := func() *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/api/crm/cardView", bytes.NewReader(payload))
		req.Header = salesforce.SignedHeaders(org, conn.Secret, "/api/crm/cardView", payload, a.clock.Now(), salesforce.NewNonce())
		return req
	}
	rec := httptest.NewRecorder()
	a.srv.Handler().ServeHTTP(rec, signed())
	if rec.Code != http.StatusOK {
		b.Fatalf("warm-up: %d %s", rec.Code, rec.Body)
	}
	answer := rec.Body.Bytes()

	bare := gin.New()
	bare.POST("/api/crm/cardView", func(c *gin.Context) { c.Data(http.StatusOK, "application/json; charset=utf-8", answer) })

	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"qwoty", a.srv.Handler()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16) // 32 requests in flight on 2 cores, as cmd/qwoty-load does
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					w := httptest.NewRecorder()
					bc.h.ServeHTTP(w, signed())
					if w.Code != http.StatusOK {
						b.Errorf("status %d: %s", w.Code, w.Body)
						return
					}
				}
			})
		})
	}
}
