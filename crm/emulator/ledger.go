package emulator

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"time"
)

// The ledger's bounds: an emulator serving a development server for hours
// keeps the latest writes, never all of them.
const (
	// DefaultLedgerSize is how many writes the ledger keeps by default.
	DefaultLedgerSize = 10_000
	// MaxWriteBody is how much of a write's body the ledger keeps.
	MaxWriteBody = 64 << 10
	// maxLedgerBytes bounds the bodies the ledger keeps, all writes
	// together; the oldest writes go first.
	maxLedgerBytes = 16 << 20
)

// Write is one write request the emulator received (any method but GET,
// HEAD, OPTIONS and TRACE), as the ledger keeps it.
type Write struct {
	// Seq numbers the writes from 1, over the emulator's life, in the order
	// the emulator was done with them (answered, refused or dropped).
	Seq int64
	// Time is when the write arrived, on the emulator's clock.
	Time   time.Time
	Method string
	Path   string
	Query  string
	// Body is the body as received, its first MaxWriteBody bytes when
	// Truncated; nil on routes that carry credentials (OAuth token
	// requests), which the ledger does not keep. It must not be modified.
	Body      []byte
	Truncated bool
	// Account is the CRM account (org, portal, company) whose access token
	// authorised the write; empty when none did.
	Account string
	// Status is the status answered, or that would have been answered when
	// Dropped; 0 when the client left during an injected delay.
	Status int
	// Injected: a fault answered Status instead of the CRM; nothing was
	// applied.
	Injected bool
	// Dropped: the CRM applied the write, and the connection was closed
	// without an answer.
	Dropped bool
}

// Writes returns the writes the ledger holds, oldest first: every write
// received, or the latest ones when there were more than it keeps.
func (b *Base) Writes() []Write {
	b.ledger.mu.Lock()
	defer b.ledger.mu.Unlock()
	out := make([]Write, 0, len(b.ledger.kept))
	for _, w := range b.ledger.kept {
		out = append(out, *w)
	}
	return out
}

// Attribute names the account a request acts for, for its ledger entry. An
// emulator calls it (Tokens.Authenticate does) once it knows whose token
// the request carries.
func Attribute(r *http.Request, account string) {
	if n, ok := r.Context().Value(noteKey{}).(*note); ok {
		n.mu.Lock()
		n.account = account
		n.mu.Unlock()
	}
}

// Credentials marks a route whose body carries credentials (client secret,
// codes, refresh tokens): its writes enter the ledger without their body.
func Credentials(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n, ok := r.Context().Value(noteKey{}).(*note); ok {
			n.mu.Lock()
			n.credentials = true
			n.mu.Unlock()
		}
		h(w, r)
	}
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

type noteKey struct{}

// note is what the emulator's handler tells the ledger about a request.
type note struct {
	mu          sync.Mutex
	account     string
	credentials bool
}

type ledger struct {
	mu    sync.Mutex
	size  int
	seq   int64
	bytes int
	kept  []*Write
}

func (l *ledger) init(size int) {
	l.size = size
	if l.size <= 0 {
		l.size = DefaultLedgerSize
	}
}

// receive starts the entry of a write: it reads the start of the body,
// which the handler still reads whole.
func (l *ledger) receive(r *http.Request, now time.Time) *Write {
	w := &Write{Time: now, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	head, _ := io.ReadAll(io.LimitReader(r.Body, MaxWriteBody+1))
	if len(head) > MaxWriteBody {
		w.Truncated = true
	}
	w.Body = head[:min(len(head), MaxWriteBody)]
	r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	return w
}

// enter completes the entry with what the handler said and keeps it.
func (l *ledger) enter(w *Write, n *note, status int) {
	if w == nil {
		return
	}
	n.mu.Lock()
	w.Account = n.account
	if n.credentials {
		w.Body, w.Truncated = nil, false
	}
	n.mu.Unlock()
	w.Status = status

	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	w.Seq = l.seq
	l.kept = append(l.kept, w)
	l.bytes += len(w.Body)
	drop := 0
	for len(l.kept)-drop > l.size || l.bytes > maxLedgerBytes {
		l.bytes -= len(l.kept[drop].Body)
		l.kept[drop] = nil
		drop++
	}
	if drop > 0 {
		l.kept = l.kept[drop:]
	}
}

type readCloser struct {
	io.Reader
	io.Closer
}
