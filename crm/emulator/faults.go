package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// maxFaults caps the faults armed at once: a test arms a few, and a
// development server that is sent a fault in a loop must stay bounded.
const maxFaults = 256

// Fault is a failure the emulator injects into the requests a route
// receives, before or around the CRM's own handler. Status and Drop exclude
// each other; Delay goes with either, or alone.
type Fault struct {
	// Route selects the requests, as a net/http ServeMux pattern
	// ("POST /oauth/token", "GET /api/v2/deals/{id}", "/services/apexrest/");
	// empty means every request.
	Route string
	// Body, when set, narrows Route to the requests whose body contains it
	// (a write's first MaxWriteBody bytes, as the ledger reads them): one
	// kind of write among those one endpoint takes, such as an order's
	// create among the Composite requests of a sync.
	Body string
	// Times is how many matching requests the fault takes; 0 means every
	// one until ClearFaults.
	Times int
	// Delay holds the request this long before anything else happens: the
	// latency of a slow CRM. A client that gives up meanwhile gets nothing
	// and nothing is applied.
	Delay time.Duration
	// Status answers this status (400 to 599) instead of the handler, in the
	// CRM's error shape: nothing is applied.
	Status int
	// RetryAfter, with Status, sends Retry-After in whole seconds (rounded
	// up), as 429 and 503 answers do.
	RetryAfter time.Duration
	// Drop runs the handler (the write is applied and entered in the
	// ledger) and then closes the connection without answering: the client
	// cannot tell whether its write happened, which is what exactly-once
	// delivery must survive. Go's http.Transport retries a dropped request
	// by itself only when it is idempotent (GET, or with an Idempotency-Key
	// header) and went out on a reused connection.
	Drop bool
}

// Inject arms a fault. Faults are tried in the order they were armed; the
// first that matches a request and has takes left applies to it.
func (b *Base) Inject(f Fault) error {
	a := &armed{Fault: f, left: f.Times}
	if err := a.check(); err != nil {
		return fmt.Errorf("%s: fault %+v: %w", b.name, f, err)
	}
	b.faults.mu.Lock()
	defer b.faults.mu.Unlock()
	if len(b.faults.armed) >= maxFaults {
		return fmt.Errorf("%s: %d faults are armed already", b.name, maxFaults)
	}
	b.faults.armed = append(b.faults.armed, a)
	return nil
}

// ClearFaults disarms every fault.
func (b *Base) ClearFaults() {
	b.faults.mu.Lock()
	defer b.faults.mu.Unlock()
	b.faults.armed = nil
}

type faults struct {
	mu    sync.Mutex
	armed []*armed
}

type armed struct {
	Fault
	// match holds Route alone, so that a request matches exactly as the
	// emulator's own ServeMux would route it; nil matches everything.
	match *http.ServeMux
	// left counts the takes left; it is not used when Times is 0.
	left int
}

func (a *armed) check() (err error) {
	switch {
	case a.Times < 0:
		return errors.New("Times is negative")
	case a.Status != 0 && (a.Status < 400 || a.Status > 599):
		return errors.New("Status is not an error status")
	case a.Status != 0 && a.Drop:
		return errors.New("Status and Drop exclude each other")
	case a.RetryAfter != 0 && a.Status == 0:
		return errors.New("RetryAfter needs a Status")
	case a.Delay < 0 || a.RetryAfter < 0:
		return errors.New("a duration is negative")
	case a.Delay == 0 && a.Status == 0 && !a.Drop:
		return errors.New("it does nothing")
	case a.Route == "":
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Route: %v", p)
		}
	}()
	a.match = http.NewServeMux()
	a.match.Handle(a.Route, http.NotFoundHandler())
	return nil
}

// take returns the fault that applies to r, whose body begins with body,
// counting the take, or the zero Fault.
func (f *faults) take(r *http.Request, body []byte) Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range f.armed {
		if a.match != nil {
			if _, pattern := a.match.Handler(r); pattern == "" {
				continue
			}
		}
		if a.Body != "" && !bytes.Contains(body, []byte(a.Body)) {
			continue
		}
		if a.Times > 0 {
			a.left--
			if a.left == 0 {
				f.armed = append(f.armed[:i:i], f.armed[i+1:]...)
			}
		}
		return a.Fault
	}
	return Fault{}
}

// answerFault answers an injected error status.
func (b *Base) answerFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64((f.RetryAfter+time.Second-1)/time.Second), 10))
	}
	if b.faultAnswer != nil {
		b.faultAnswer(w, f.Status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": http.StatusText(f.Status)})
}
