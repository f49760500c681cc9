package store_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// BenchmarkSearchCatalog measures the card's catalogue search as the rep
// types, over a connection with 50,000 products priced in USD and EUR (a
// large price book), next to another connection's 50,000 (the trigram
// index is shared by every connection). Each operation is one search from
// a rotation of what reps type: a SKU prefix, a word of a name, a
// substring, a search that finds nothing, and a two-character one (too
// short for the trigram index). Besides the mean it reports the 50th and
// 99th percentiles of one search (p50-ms, p99-ms). Run it with
//
//	go test -run '^$' -bench '^BenchmarkSearchCatalog$' ./store
//
// The products are made with one INSERT ... SELECT (StorePulled stores
// 100,000 rows one statement each, a minute of set-up for nothing measured).
func BenchmarkSearchCatalog(b *testing.B) {
	db := storetest.New(b)
	conn := func(ws, org string) *qwoty.Connection {
		c, err := db.AddConnection(ctx, store.AddConnectionParams{Workspace: ws, Provider: qwoty.ProviderSalesforce, ExternalID: org, MyDomain: "acme"})
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	a, other := conn("A", "00D00000000000AAAA"), conn("B", "00D00000000000BBBB")
	for _, c := range []struct{ ws, conn string }{{a.WorkspaceID, a.ID}, {other.WorkspaceID, other.ID}} {
		// In chunks: one statement of 50,000 rows would pass the
		// statement timeout on a busy machine.
		for from := 1; from <= 50000; from += 5000 {
			if _, err := db.Pool().Exec(ctx, `
			WITH w AS (SELECT ARRAY['gadget','widget','sprocket','bracket','cable','adapter','sensor','module',
				'licence','support','pro','basic','premium','annual','monthly','steel','carbon','blue','red','green'] AS w)
			INSERT INTO catalog_products (connection_id, crm_id, workspace_id, sku, name, active, crm_modified)
			SELECT $1, '01t' || lpad(g::text, 15, '0'), $2,
				upper(substr(md5(g::text), 1, 3)) || '-' || g,
				initcap(w[1 + g % 20] || ' ' || w[1 + (g / 20) % 20] || ' ' || w[1 + (g / 400) % 20]) || ' ' || g,
				g % 50 <> 0, now()
			FROM generate_series($3::int, $3::int + 4999) g, w`, c.conn, c.ws, from); err != nil {
				b.Fatal(err)
			}
		}
		for _, cur := range []string{"USD", "EUR"} {
			if _, err := db.Pool().Exec(ctx, `
				INSERT INTO catalog_prices (connection_id, product_crm_id, currency, unit_price, active, crm_modified)
				SELECT connection_id, crm_id, $2, (hashtext(crm_id) & 65535) / 100.0, true, now()
				FROM catalog_products WHERE connection_id = $1`, c.conn, cur); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := db.Pool().Exec(ctx, `ANALYZE catalog_products; ANALYZE catalog_prices`); err != nil {
		b.Fatal(err)
	}
	s := store.Scope{WorkspaceID: a.WorkspaceID, ConnectionID: a.ID}
	queries := []string{"gadg", "widget pro", "a3f", "cket", "sensor 123", "zzzz", "ca", "premium"}
	run := func(b *testing.B, queries []string) {
		times := make([]time.Duration, 0, 1024)
		for i := 0; b.Loop(); i++ {
			t0 := time.Now()
			if _, err := db.SearchCatalog(ctx, s, "USD", queries[i%len(queries)], 20); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(t0))
		}
		slices.Sort(times)
		pct := func(p float64) float64 {
			return float64(times[int(p*float64(len(times)-1))].Microseconds()) / 1000
		}
		b.ReportMetric(pct(0.50), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
	}
	b.Run("mix", func(b *testing.B) { run(b, queries) })
	for _, q := range queries {
		b.Run(strings.ReplaceAll(q, " ", "_"), func(b *testing.B) { run(b, []string{q}) })
	}
}
