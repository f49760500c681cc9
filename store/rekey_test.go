package store_test

import (
	"testing"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
	"github.com/qwoty/companion/store/storetest"
)

// Re-keying a connection from the command line (which names no instance
// URL) keeps the instance URL the OAuth connect recorded: the console's
// Test and Rotate call the org there.
func TestRekeyKeepsTheInstanceURL(t *testing.T) {
	db := storetest.New(t)
	p := store.AddConnectionParams{Workspace: "A", Provider: qwoty.ProviderSalesforce,
		ExternalID: "00D00000000000RKEY", MyDomain: "acme", InstanceURL: "https://acme.my.salesforce.com"}
	first, err := db.AddConnection(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	p.InstanceURL = ""
	again, err := db.AddConnection(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := db.ConnectionByID(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	const want = "https://acme.my.salesforce.com"
	if again.ID != first.ID || stored.InstanceURL != want || again.InstanceURL != want {
		t.Fatalf("after re-key: id %s (first %s), stored instance URL %q, returned %q; want the same id and %q",
			again.ID, first.ID, stored.InstanceURL, again.InstanceURL, want)
	}
	if string(stored.Secret) == string(first.Secret) {
		t.Fatalf("re-key kept the old secret")
	}
}
