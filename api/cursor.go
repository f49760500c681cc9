package api

import (
	"encoding/base64"
	"strings"
	"time"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// A listing's cursor is opaque to clients: the listing it belongs to (its
// order), and the sort value and id of the last row of the page, in
// base64url. A keyset position rather than an offset: a page never skips
// or repeats a row because rows were added before it.

// cursorKind names a listing's order; a cursor of one listing is refused
// by another.
type cursorKind string

const (
	cursorQuotesCreated    cursorKind = "qc"
	cursorQuotesUpdated    cursorKind = "qu"
	cursorCustomersCreated cursorKind = "cc"
	cursorCustomersUpdated cursorKind = "cu"
	cursorContacts         cursorKind = "ct"
	cursorCatalog          cursorKind = "ci"
	cursorOrders           cursorKind = "oc"
)

func encodeCursor(kind cursorKind, t time.Time, id string) string {
	s := string(kind) + "|" + t.UTC().Format(time.RFC3339Nano) + "|" + id
	if t.IsZero() {
		s = string(kind) + "||" + id
	}
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// decodeCursor reads a cursor of the listing kind; "" is the first page.
func decodeCursor(kind cursorKind, s string) (*store.Cursor, error) {
	if s == "" {
		return nil, nil
	}
	bad := &qwoty.Error{Code: qwoty.CodeValidation, Field: "cursor", Message: "the cursor is not one this listing gave",
		Hint: "Pass nextCursor from the previous page of the same listing, with the same filters, unchanged."}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	k, rest, ok1 := strings.Cut(string(b), "|")
	ts, id, ok2 := strings.Cut(rest, "|")
	if !ok1 || !ok2 || cursorKind(k) != kind || id == "" {
		return nil, bad
	}
	c := &store.Cursor{ID: id}
	if ts != "" {
		if c.T, err = time.Parse(time.RFC3339Nano, ts); err != nil {
			return nil, bad
		}
	}
	return c, nil
}

// Page is what every listing answers besides its items.
type Page struct {
	// HasMore is true when another page follows.
	HasMore bool `json:"hasMore" doc:"Whether another page follows."`
	// NextCursor is the next page's cursor, "" on the last page.
	NextCursor string `json:"nextCursor,omitempty" doc:"Pass as cursor to get the next page (same filters); absent on the last page."`
}

// ListParams are every listing's paging parameters.
type ListParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"Page size, 1 to 200."`
	Cursor string `query:"cursor" maxLength:"512" doc:"nextCursor of the previous page."`
}

// limit is the page size asked (huma applies the default and bounds;
// this keeps a direct caller in them too).
func (p ListParams) limit() int {
	if p.Limit < 1 || p.Limit > MaxPageSize {
		return DefaultPageSize
	}
	return p.Limit
}
