package pipedrive

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Pull is Pipedrive's inbound sync: organizations, deals (with their
// contact person) and the product catalogue, read through API v2's lists.
func (a *Adapter) Pull() crm.Puller { return &Puller{http: a.o.HTTP, PageSize: a.o.PullPageSize} }

// Puller is Pipedrive's crm.Puller. docs/sync-pipedrive.md ("Pulling")
// says what is read from where.
//
// Paging. A v2 list's cursor is "an opaque string" and Pipedrive says
// nothing of what it does when a record changes while a listing is read.
// If it is an offset into the sorted listing, a record updated between two
// pages of a listing sorted by update_time moves to its end, every record
// after it moves back one place, and the next page skips one. So the
// lists that filter by updated_since (deals, organizations) are paged by
// the update time itself (keyset): each page asks again for update_time at
// or after the newest time of the previous page, leaving out the records of
// exactly that time it already returned; Pipedrive's cursor is followed
// only while a whole page shares one second. A record that changes then is
// at or after that time and comes on a later page. Products have no
// updated_since: they are listed newest first, where a record that changes
// moves to the part already read (the next listing reads it, its time
// being past the mark) and the others only move further back, so none is
// skipped; the listing stops at the first product older than the mark.
type Puller struct {
	http *http.Client
	// PageSize is a list page's length; 0 means 500, v2's largest.
	PageSize int
}

var _ crm.Puller = (*Puller)(nil)

// Streams, in order: organizations before the deals that name them.
const (
	StreamCustomer    = "customer"
	StreamDeal        = "deal"
	StreamDealDeleted = "deal_deleted"
	StreamProduct     = "product"
)

// Streams are the same for every connection. Every list takes from the
// daily and burst buckets (bucket "" is the engine's default).
func (p *Puller) Streams(*qwoty.Connection) []crm.Stream {
	return []crm.Stream{
		{Name: StreamCustomer, Kind: crm.KindCustomer, Bucket: bucketDaily},
		{Name: StreamDeal, Kind: crm.KindDeal, Bucket: bucketDaily},
		{Name: StreamDealDeleted, Kind: crm.KindDeal, Bucket: bucketDaily},
		{Name: StreamProduct, Kind: crm.KindProduct, Bucket: bucketDaily},
	}
}

func (p *Puller) pageSize() int {
	if p.PageSize <= 0 || p.PageSize > maxPage {
		return maxPage
	}
	return p.PageSize
}

// maxPage and maxIDs are v2 lists' largest limit and ids filter.
const (
	maxPage = 500
	maxIDs  = 100
)

// caller is the pusher's call path (session, budget, 429s) for reads.
func (p *Puller) caller(s crm.Session, b crm.Budget) *pusher {
	return &pusher{y: &Syncer{http: p.http}, s: s, b: b}
}

// Pull reads one page of a stream.
func (p *Puller) Pull(ctx context.Context, s crm.Session, b crm.Budget, stream string, from crm.PullFrom) (crm.PullPage, error) {
	c := p.caller(s, b)
	var page crm.PullPage
	kind := ""
	for _, st := range p.Streams(nil) {
		if st.Name == stream {
			kind = st.Kind
		}
	}
	extra, err := extraFields(kind, from.Fields)
	if err != nil {
		return page, err
	}
	switch stream {
	case StreamCustomer:
		page, err = p.keyset(ctx, c, "/api/v2/organizations", nil, from, withFields(customerOf, extra))
	case StreamDeal, StreamDealDeleted:
		var query url.Values
		if stream == StreamDealDeleted {
			// Deals deleted in the last 30 days; the others' lists leave them out.
			query = url.Values{"status": {"deleted"}}
		}
		page, err = p.keyset(ctx, c, "/api/v2/deals", query, from, withFields(dealOf, extra))
		if err == nil {
			err = p.contacts(ctx, c, page.Records)
		}
	case StreamProduct:
		page, err = p.products(ctx, c, from)
	default:
		err = fmt.Errorf("pipedrive: no stream %q", stream)
	}
	page.Calls, page.Tokens = int(c.calls.Load()), int(c.tokens.Load())
	if err != nil {
		return page, err
	}
	crm.Asked(page.Records, extra)
	return page, nil
}

// keysetCursor is where a keyset listing stands: the update time it asks
// from, the ids of that very time already returned, and Pipedrive's own
// cursor while a page's records all share that time.
type keysetCursor struct {
	Since int64   `json:"t"`
	Skip  []int64 `json:"s,omitempty"`
	PD    string  `json:"c,omitempty"`
}

func (k keysetCursor) encode() string {
	b, _ := json.Marshal(k)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeKeyset(s string) (keysetCursor, error) {
	var k keysetCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &k)
	}
	if err != nil {
		return k, fmt.Errorf("pipedrive: the pull cursor %q is not ours: %w", s, err)
	}
	return k, nil
}

// record is what every v2 entity has: its id and update_time.
type record struct {
	ID      int64  `json:"id"`
	Updated string `json:"update_time"`
}

func (r record) modified() time.Time {
	t, _ := time.Parse(time.RFC3339, r.Updated)
	return t
}

// keyset reads one page of a list that filters by updated_since, sorted
// by update_time ascending (see Puller).
func (p *Puller) keyset(ctx context.Context, c *pusher, path string, extra url.Values, from crm.PullFrom,
	mapOne func(json.RawMessage) (crm.Pulled, error)) (crm.PullPage, error) {
	var page crm.PullPage
	cur := keysetCursor{}
	if !from.Since.IsZero() {
		cur.Since = from.Since.Unix()
	}
	if from.Cursor != "" {
		var err error
		if cur, err = decodeKeyset(from.Cursor); err != nil {
			return page, err
		}
	}
	q := url.Values{"sort_by": {"update_time"}, "sort_direction": {"asc"}, "limit": {strconv.Itoa(p.pageSize())}}
	for k, v := range extra {
		q[k] = v
	}
	if cur.Since > 0 {
		q.Set("updated_since", time.Unix(cur.Since, 0).UTC().Format(time.RFC3339))
	}
	if cur.PD != "" {
		q.Set("cursor", cur.PD)
	}
	var raw []json.RawMessage
	var next string
	if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, cost: costList, next: &next}, &raw); err != nil {
		return page, err
	}
	var last time.Time
	var atLast []int64
	for _, m := range raw {
		var r record
		if err := json.Unmarshal(m, &r); err != nil {
			return page, fmt.Errorf("pipedrive: a record of %s: %w", path, err)
		}
		t := r.modified()
		if t.Unix() == cur.Since && slices.Contains(cur.Skip, r.ID) {
			continue // returned by the previous page
		}
		rec, err := mapOne(m)
		if err != nil {
			return page, err
		}
		page.Records = append(page.Records, rec)
		if t.After(last) {
			last, atLast = t, nil
		}
		if t.Equal(last) {
			atLast = append(atLast, r.ID)
		}
	}
	switch {
	case next == "":
	case last.Unix() > cur.Since:
		// Ask again from the page's newest time (keyset), not from
		// Pipedrive's cursor.
		page.Next = keysetCursor{Since: last.Unix(), Skip: atLast}.encode()
	default:
		// The whole page shares one second: only Pipedrive's cursor moves on.
		page.Next = keysetCursor{Since: cur.Since, Skip: cur.Skip, PD: next}.encode()
	}
	return page, nil
}

// products reads one page of the catalogue, newest first (see Puller):
// the listing ends at the first product older than from.Since.
func (p *Puller) products(ctx context.Context, c *pusher, from crm.PullFrom) (crm.PullPage, error) {
	var page crm.PullPage
	q := url.Values{"sort_by": {"update_time"}, "sort_direction": {"desc"}, "limit": {strconv.Itoa(p.pageSize())}}
	if from.Cursor != "" {
		q.Set("cursor", from.Cursor)
	}
	var raw []json.RawMessage
	var next string
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/products", query: q, cost: costList, next: &next}, &raw); err != nil {
		return page, err
	}
	for _, m := range raw {
		rec, err := productOf(m)
		if err != nil {
			return page, err
		}
		if !from.Since.IsZero() && rec.Modified.Before(from.Since) {
			return page, nil // older than the mark: the rest is known
		}
		page.Records = append(page.Records, rec)
	}
	page.Next = next
	return page, nil
}

// contacts fills the deals' contact person from one list of persons per
// hundred deals (ids=), never a call per deal.
func (p *Puller) contacts(ctx context.Context, c *pusher, deals []crm.Pulled) error {
	var ids []string
	for _, d := range deals {
		if id := d.Fields["person_id"]; id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	people := map[string]crm.PulledContact{}
	for chunk := range slices.Chunk(ids, maxIDs) {
		q := url.Values{"ids": {joinIDs(chunk)}, "limit": {strconv.Itoa(maxPage)}}
		var raw []json.RawMessage
		if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v2/persons", query: q, cost: costList}, &raw); err != nil {
			return err
		}
		for _, m := range raw {
			pc, err := contactOf(m)
			if err != nil {
				return err
			}
			people[pc.ID] = pc
		}
	}
	for i := range deals {
		if d := deals[i].Deal; d != nil {
			if pc, ok := people[deals[i].Fields["person_id"]]; ok && pc.Email != "" {
				d.Contacts = []crm.PulledContact{pc}
			}
		}
	}
	return nil
}

func joinIDs(ids []string) string {
	out := ""
	for i, id := range ids {
		if i > 0 {
			out += ","
		}
		out += id
	}
	return out
}

// Fetch reads records by id through the lists' ids filter (up to 100 a
// call; "the requested entities [that] do not exist or are not visible ...
// are not included"), so a record missing from the answer comes back
// Deleted. A deal's list without status leaves deleted deals out, which
// is the same answer.
func (p *Puller) Fetch(ctx context.Context, s crm.Session, b crm.Budget, kind string, ids []string, fields []string) ([]crm.Pulled, error) {
	c := p.caller(s, b)
	var path string
	var mapOne func(json.RawMessage) (crm.Pulled, error)
	switch kind {
	case crm.KindCustomer:
		path, mapOne = "/api/v2/organizations", customerOf
	case crm.KindDeal:
		path, mapOne = "/api/v2/deals", dealOf
	case crm.KindProduct:
		path, mapOne = "/api/v2/products", productOf
	default:
		return nil, fmt.Errorf("pipedrive: no records of kind %q", kind)
	}
	extra, err := extraFields(kind, fields)
	if err != nil {
		return nil, err
	}
	mapOne = withFields(mapOne, extra)
	var valid []string
	for _, id := range ids {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 && !slices.Contains(valid, id) {
			valid = append(valid, id)
		}
	}
	var out []crm.Pulled
	now := time.Now().UTC()
	for chunk := range slices.Chunk(valid, maxIDs) {
		q := url.Values{"ids": {joinIDs(chunk)}, "limit": {strconv.Itoa(maxPage)}}
		var raw []json.RawMessage
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, cost: costList}, &raw); err != nil {
			return nil, err
		}
		found := map[string]bool{}
		var got []crm.Pulled
		for _, m := range raw {
			rec, err := mapOne(m)
			if err != nil {
				return nil, err
			}
			found[rec.ID] = true
			got = append(got, rec)
		}
		if kind == crm.KindDeal {
			if err := p.contacts(ctx, c, got); err != nil {
				return nil, err
			}
		}
		out = append(out, got...)
		for _, id := range chunk {
			if !found[id] {
				// Gone: its time of deletion is unknown, so now (a copy
				// newer than now is impossible).
				out = append(out, crm.Pulled{Kind: kind, ID: id, Modified: now, Deleted: true})
			}
		}
	}
	crm.Asked(out, extra)
	return out, nil
}
