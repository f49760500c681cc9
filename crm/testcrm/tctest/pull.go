package tctest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// The test CRM's change listings, as the emulator plays them:
//
//	GET /api/changes/{object}?since=RFC3339&cursor=...&limit=100
//	GET /api/batch/{object}?ids=a,b,c
//
// for the objects "companies", "deals" and "products". A listing returns
// the records modified at or after since (every record without it),
// deleted ones included with "deleted": true, ordered by their
// modification time and then their id, at most limit (1 to 100, default
// 100) a page; "next" is the cursor of the next page, "" on the last. The
// cursor is a keyset (the last record's time and id), so a record changed
// while a listing is read moves past the cursor and is listed again, never
// skipped. A batch read returns the records of ids (at most 100) that
// exist, deleted ones as their tombstone, and the CRM's time "now".
//
// Records carry the CRM's own modification time, taken from the record
// clock (Options.RecordClock, to the millisecond as the CRM stores it),
// and who modified them: a person (EditorEmail) when a test edits them,
// the token's user when the sync endpoint writes a deal, which is how an
// integration recognises its own writes coming back. Every call counts
// against the same rate limit as the sync endpoint (RateLimit).

// EditorEmail is the user a test's edits are made as: a person in the CRM,
// not the integration.
const EditorEmail = "editor@acme.test"

// MaxPage is the API's largest page and batch.
const MaxPage = 100

// Company is a company record (a customer to Qwoty).
type Company struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Street     string `json:"street,omitempty"`
	City       string `json:"city,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Region     string `json:"region,omitempty"`
	Country    string `json:"country,omitempty"`
	Domain     string `json:"domain,omitempty"`
	// Ref is an integration's reference of a company it made.
	Ref    string            `json:"ref,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
}

// Contact is a contact person on a deal.
type Contact struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	Role  string `json:"role,omitempty"`
}

// DealRecord is a deal as the listings return it.
type DealRecord struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Amount    string            `json:"amount,omitempty"`
	Currency  string            `json:"currency,omitempty"`
	Stage     string            `json:"stage,omitempty"`
	CloseDate string            `json:"close_date,omitempty"`
	CompanyID string            `json:"company_id,omitempty"`
	Contacts  []Contact         `json:"contacts,omitempty"`
	Fields    map[string]string `json:"fields,omitempty"`
	// Ref is an integration's reference of a deal it made.
	Ref string `json:"ref,omitempty"`
}

// Product is a catalogue product; its prices are fields of it, by
// currency.
type Product struct {
	ID          string            `json:"id"`
	SKU         string            `json:"sku"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Active      bool              `json:"active"`
	Prices      map[string]string `json:"prices,omitempty"`
}

// Objects of the listings.
const (
	Companies = "companies"
	Deals     = "deals"
	Products  = "products"
)

// record is one record of an object, with its CRM metadata.
type record struct {
	ID         string      `json:"id"`
	ModifiedAt time.Time   `json:"modified_at"`
	ModifiedBy string      `json:"modified_by"`
	Deleted    bool        `json:"deleted,omitempty"`
	Company    *Company    `json:"company,omitempty"`
	Deal       *DealRecord `json:"deal,omitempty"`
	Product    *Product    `json:"product,omitempty"`
}

type pullState struct {
	mu      sync.Mutex
	records map[string]map[string]*record // object → id → record
	offset  bool
	onPage  func(object string, page int)
	pages   map[string]int
	served  map[string]int
	cursors map[string][]string
	fetches int
	// made numbers the records integrations make (deals.go).
	made int
}

func (s *Server) recordNow() time.Time {
	now := time.Now
	if s.opts.RecordClock != nil {
		now = s.opts.RecordClock
	}
	return now().UTC().Truncate(time.Millisecond)
}

// put stores rec as modified now by who; the caller holds the lock.
func (s *Server) put(object, id, who string, set func(r *record)) time.Time {
	st := &s.pull
	if st.records == nil {
		st.records = map[string]map[string]*record{}
	}
	if st.records[object] == nil {
		st.records[object] = map[string]*record{}
	}
	r := &record{ID: id}
	if old := st.records[object][id]; old != nil {
		c := *old
		r = &c
	}
	r.ModifiedAt, r.ModifiedBy, r.Deleted = s.recordNow(), who, false
	set(r)
	st.records[object][id] = r
	return r.ModifiedAt
}

// PutCompany creates or replaces a company, as a person edits it, and
// returns its new modification time.
func (s *Server) PutCompany(c Company) time.Time {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	return s.put(Companies, c.ID, EditorEmail, func(r *record) { r.Company = &c })
}

// PutDeal creates or replaces a deal, as a person edits it.
func (s *Server) PutDeal(d DealRecord) time.Time {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	d.Contacts = slices.Clone(d.Contacts)
	return s.put(Deals, d.ID, EditorEmail, func(r *record) { r.Deal = &d })
}

// PutProduct creates or replaces a product, as a person edits it.
func (s *Server) PutProduct(p Product) time.Time {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	return s.put(Products, p.ID, EditorEmail, func(r *record) { r.Product = &p })
}

// Delete deletes a record: it stays as a tombstone, listed with "deleted"
// from its time of deletion on. False when it does not exist.
func (s *Server) Delete(object, id string) bool {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	if s.pull.records[object][id] == nil {
		return false
	}
	s.put(object, id, EditorEmail, func(r *record) { r.Deleted = true })
	return true
}

// OnPage calls f after each listing page is made and before it is
// answered (the page's records are those of before f), with the page's
// number in its listing from 1: a test changes records between pages.
func (s *Server) OnPage(f func(object string, page int)) {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	s.pull.onPage = f
}

// OffsetPaging makes the listings page by an offset into the sorted
// listing instead of the keyset: the broken paging a test proves it
// catches (a record that moves shifts the rest, and one is skipped).
func (s *Server) OffsetPaging(on bool) {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	s.pull.offset = on
}

// ListCalls counts the listing calls of object answered with a page.
func (s *Server) ListCalls(object string) int { return s.calls.Get("list:" + object) }

// FetchCalls counts the batch reads answered.
func (s *Server) FetchCalls() int { return s.calls.Get("batch") }

// Served counts the records the listings of object returned, all pages
// together.
func (s *Server) Served(object string) int {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	return s.pull.served[object]
}

// Cursors are the cursors the listings of object were asked for, in order
// ("" for a first page).
func (s *Server) Cursors(object string) []string {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	return slices.Clone(s.pull.cursors[object])
}

var pullObjects = []string{Companies, Deals, Products}

type keyset struct {
	M time.Time `json:"m"`
	I string    `json:"i"`
}

// changes is GET /api/changes/{object}.
func (s *Server) changes(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r); !ok {
		return
	}
	object := r.PathValue("object")
	if !slices.Contains(pullObjects, object) {
		apiError(w, http.StatusNotFound, "not_found", "no such object")
		return
	}
	q := r.URL.Query()
	limit := MaxPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPage {
			apiError(w, http.StatusBadRequest, "bad_request", "limit must be 1 to 100")
			return
		}
		limit = n
	}
	if s.opts.PageSize > 0 {
		limit = min(limit, s.opts.PageSize)
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			apiError(w, http.StatusBadRequest, "bad_request", "since must be an RFC 3339 time")
			return
		}
		since = t
	}
	if s.overLimit(w) {
		return
	}
	cursor := q.Get("cursor")
	st := &s.pull
	st.mu.Lock()
	all := make([]*record, 0, len(st.records[object]))
	for _, rec := range st.records[object] {
		if !rec.ModifiedAt.Before(since) {
			all = append(all, rec)
		}
	}
	slices.SortFunc(all, func(a, b *record) int {
		return cmp.Or(a.ModifiedAt.Compare(b.ModifiedAt), strings.Compare(a.ID, b.ID))
	})
	var page []*record
	next := ""
	if st.offset {
		off, _ := strconv.Atoi(strings.TrimPrefix(cursor, "o:"))
		off = min(off, len(all))
		page = all[off:min(off+limit, len(all))]
		if off+len(page) < len(all) {
			next = "o:" + strconv.Itoa(off+len(page))
		}
	} else {
		start := 0
		if cursor != "" {
			raw, err := base64.RawURLEncoding.DecodeString(cursor)
			var k keyset
			if err == nil {
				err = json.Unmarshal(raw, &k)
			}
			if err != nil {
				st.mu.Unlock()
				apiError(w, http.StatusBadRequest, "bad_request", "the cursor is not one this API gave")
				return
			}
			// The first record after the cursor's (time, id): the cursor's
			// own record compares as before it.
			start, _ = slices.BinarySearchFunc(all, k, func(a *record, k keyset) int {
				return cmp.Or(a.ModifiedAt.Compare(k.M), strings.Compare(a.ID, k.I), -1)
			})
		}
		page = all[start:min(start+limit, len(all))]
		if start+len(page) < len(all) {
			last := page[len(page)-1]
			b, _ := json.Marshal(keyset{M: last.ModifiedAt, I: last.ID})
			next = base64.RawURLEncoding.EncodeToString(b)
		}
	}
	out := make([]record, len(page))
	for i, rec := range page {
		out[i] = wire(*rec)
	}
	if st.pages == nil {
		st.pages, st.served, st.cursors = map[string]int{}, map[string]int{}, map[string][]string{}
	}
	if cursor == "" {
		st.pages[object] = 0
	}
	st.pages[object]++
	n := st.pages[object]
	st.served[object] += len(out)
	st.cursors[object] = append(st.cursors[object], cursor)
	hook := st.onPage
	st.mu.Unlock()
	s.calls.Add("list:" + object)
	if hook != nil {
		hook(object, n)
	}
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"records": out, "next": next})
}

// wire is rec as the API answers it: a tombstone has no data.
func wire(rec record) record {
	if rec.Deleted {
		rec.Company, rec.Deal, rec.Product = nil, nil, nil
	}
	return rec
}

// batch is GET /api/batch/{object}?ids=.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r); !ok {
		return
	}
	object := r.PathValue("object")
	if !slices.Contains(pullObjects, object) {
		apiError(w, http.StatusNotFound, "not_found", "no such object")
		return
	}
	ids := strings.Split(r.URL.Query().Get("ids"), ",")
	if len(ids) == 0 || ids[0] == "" || len(ids) > MaxPage {
		apiError(w, http.StatusBadRequest, "bad_request", "ids must name 1 to 100 records")
		return
	}
	if s.overLimit(w) {
		return
	}
	s.pull.mu.Lock()
	out := []record{}
	for _, id := range ids {
		if rec := s.pull.records[object][id]; rec != nil {
			out = append(out, wire(*rec))
		}
	}
	now := s.recordNow()
	s.pull.mu.Unlock()
	s.calls.Add("batch")
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"records": out, "now": now})
}

// syncedByApp records that the sync endpoint wrote deal id as user: a
// pulled deal of that id takes the amount and stage, modified by the
// integration's user. False when no such deal is listed.
func (s *Server) syncedByApp(id, user, amount, stage string) bool {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	old := s.pull.records[Deals][id]
	if old == nil || old.Deleted || old.Deal == nil {
		return false
	}
	s.put(Deals, id, user, func(r *record) {
		d := *old.Deal
		d.Amount = amount
		if stage != "" {
			d.Stage = stage
		}
		r.Deal = &d
	})
	return true
}

// listed says whether deal id is a listed, live deal.
func (s *Server) listed(id string) bool {
	s.pull.mu.Lock()
	defer s.pull.mu.Unlock()
	rec := s.pull.records[Deals][id]
	return rec != nil && !rec.Deleted
}
