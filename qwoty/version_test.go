package qwoty

import (
	"testing"

	"github.com/shopspring/decimal"
)

// A version's hash changes with what the customer reads, and only with it.
func TestVersionHash(t *testing.T) {
	q, err := NewDraft("Fit-out", "EUR", decimal.RequireFromString("20"))
	if err != nil {
		t.Fatal(err)
	}
	q.Number, q.CustomerName = "Q-00001", "ООО Ромашка"
	if err := q.AddLine(LineItem{SKU: "A", Description: "Desk", Quantity: decimal.NewFromInt(2), UnitPrice: decimal.RequireFromString("100")}); err != nil {
		t.Fatal(err)
	}
	q.Reprice()
	h := VersionHash(q)
	if len(h) != 64 {
		t.Fatalf("hash %q", h)
	}
	same := *q
	same.Version, same.Sync.State, same.ID = 7, SyncSynced, "other-id"
	if VersionHash(&same) != h {
		t.Fatal("the hash changed with what the customer does not read")
	}
	q.Lines[0].Quantity = decimal.NewFromInt(3)
	q.Reprice()
	if VersionHash(q) == h {
		t.Fatal("the hash did not change with a line's quantity")
	}
	q.Lines[0].Quantity = decimal.NewFromInt(2)
	q.Reprice()
	if VersionHash(q) != h {
		t.Fatal("the same content hashes differently")
	}
	q.Revision = 2
	if VersionHash(q) == h {
		t.Fatal("the hash did not change with the revision")
	}
}
