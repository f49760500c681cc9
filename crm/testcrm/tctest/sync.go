package tctest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/qwoty/companion/crm/emulator"
)

// The test CRM's sync endpoint, as the emulator plays it:
//
//	PUT /api/deals/{id}/sync  {"amount": "120.00", "stage": "won", "lines": [{"ref", "sku", "name", "quantity", "price", "net"}]}
//
// replaces the deal's lines that carry a ref (the integration's own) with
// the body's, keeps the lines without one (people's), sets the amount and,
// when the body names one, the stage. Writing the same body twice changes
// nothing: it is idempotent by nature. Refusals: 422 for a deal the test
// told to refuse (Reject), 429 with Retry-After past a rate limit
// (RateLimit), 404 for a deal that does not exist.

// SyncLine is a line of a deal.
type SyncLine struct {
	Ref      string `json:"ref,omitempty"`
	SKU      string `json:"sku"`
	Name     string `json:"name"`
	Quantity string `json:"quantity"`
	Price    string `json:"price"`
	Net      string `json:"net"`
}

// SyncedDeal is a deal as sync left it.
type SyncedDeal struct {
	Amount string
	Stage  string
	Lines  []SyncLine
	// Fields are the other fields written (the admin's mappings).
	Fields map[string]string
	// Writes counts the sync writes the deal received.
	Writes int
}

type syncState struct {
	mu      sync.Mutex
	deals   map[string]*SyncedDeal
	reject  map[string]string
	limit   int
	window  time.Duration
	winAt   time.Time
	inWin   int
	limited int
}

// Reject makes the CRM refuse every sync of deal id with message, as a
// validation rule would; "" lifts it.
func (s *Server) Reject(id, message string) {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	if s.sync.reject == nil {
		s.sync.reject = map[string]string{}
	}
	if message == "" {
		delete(s.sync.reject, id)
		return
	}
	s.sync.reject[id] = message
}

// RateLimit lets n API calls (sync writes, listings, batch reads) through
// per window and answers 429 to the others (0 lifts it).
func (s *Server) RateLimit(n int, window time.Duration) {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	s.sync.limit, s.sync.window, s.sync.winAt, s.sync.inWin = n, window, time.Time{}, 0
}

// Limited counts the 429s the API answered.
func (s *Server) Limited() int {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	return s.sync.limited
}

// AddHandLine adds a line without a ref to deal id, as a person would.
func (s *Server) AddHandLine(id string, l SyncLine) {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	d := s.syncedDeal(id)
	l.Ref = ""
	d.Lines = append(d.Lines, l)
}

// Synced returns deal id as sync left it (a copy), and false when it was
// never written.
func (s *Server) Synced(id string) (SyncedDeal, bool) {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	d, ok := s.sync.deals[id]
	if !ok {
		return SyncedDeal{}, false
	}
	c := *d
	c.Lines = slices.Clone(d.Lines)
	return c, true
}

// SyncedDeals counts the deals sync wrote.
func (s *Server) SyncedDeals() int {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	return len(s.sync.deals)
}

func (s *Server) syncedDeal(id string) *SyncedDeal {
	if s.sync.deals == nil {
		s.sync.deals = map[string]*SyncedDeal{}
	}
	d := s.sync.deals[id]
	if d == nil {
		d = &SyncedDeal{}
		s.sync.deals[id] = d
	}
	return d
}

// overLimit answers 429 with Retry-After, and says so, when the call is
// past the rate limit (RateLimit): every API call counts, syncs and
// listings alike.
func (s *Server) overLimit(w http.ResponseWriter) bool {
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	st := &s.sync
	if st.limit <= 0 {
		return false
	}
	now := s.Now()
	if st.winAt.IsZero() || now.Sub(st.winAt) >= st.window {
		st.winAt, st.inWin = now, 0
	}
	if st.inWin >= st.limit {
		st.limited++
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(st.window-now.Sub(st.winAt))/int(time.Second))))
		apiError(w, http.StatusTooManyRequests, "rate_limited", "too many requests")
		return true
	}
	st.inWin++
	return false
}

// syncDeal is PUT /api/deals/{id}/sync.
func (s *Server) syncDeal(w http.ResponseWriter, r *http.Request) {
	g, ok := s.bearer(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	exists := s.opts.AnyDeal && g.account == &s.opts.Accounts[0] || s.listed(id)
	for _, d := range g.account.Deals {
		exists = exists || d.ID == id
	}
	if !exists {
		apiError(w, http.StatusNotFound, "not_found", "no such deal")
		return
	}
	var body struct {
		Amount string            `json:"amount"`
		Stage  string            `json:"stage"`
		Lines  []SyncLine        `json:"lines"`
		Fields map[string]string `json:"fields"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "the body is not the expected JSON: "+err.Error())
		return
	}
	if s.overLimit(w) {
		return
	}
	s.sync.mu.Lock()
	defer s.sync.mu.Unlock()
	if msg, ok := s.sync.reject[id]; ok {
		apiError(w, http.StatusUnprocessableEntity, "validation_failed", msg)
		return
	}
	for _, l := range body.Lines {
		if l.Ref == "" {
			apiError(w, http.StatusUnprocessableEntity, "validation_failed", "every line written by an integration needs a ref")
			return
		}
	}
	for name := range body.Fields {
		if msg := s.writable("deal", name); msg != "" {
			apiError(w, http.StatusUnprocessableEntity, "validation_failed", msg)
			return
		}
	}
	s.syncedByApp(id, g.user.Email, body.Amount, body.Stage)
	d := s.syncedDeal(id)
	kept := slices.DeleteFunc(d.Lines, func(l SyncLine) bool { return l.Ref != "" })
	d.Lines = append(kept, body.Lines...)
	d.Amount = body.Amount
	for name, v := range body.Fields {
		if d.Fields == nil {
			d.Fields = map[string]string{}
		}
		d.Fields[name] = v
	}
	if body.Stage != "" {
		d.Stage = body.Stage
	}
	d.Writes++
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"id": id, "amount": d.Amount, "stage": d.Stage, "lines": d.Lines})
}
