package password

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Refusals of a Hasher. Neither says anything about the password: the
// caller answers "try again later".
var (
	// ErrBusy: the server-wide queue of password checks is full, or a
	// request waited MaxWait without getting a turn.
	ErrBusy = errors.New("password: too many password checks in progress")
	// ErrClientBusy: the client address already has PerClient logins in
	// flight.
	ErrClientBusy = errors.New("password: too many logins in flight from this address")
)

// Options bound a Hasher's work. Zero values take the defaults.
type Options struct {
	// Concurrency is how many argon2 computations run at once. Each holds
	// 19 MiB and a core for tens of milliseconds. Default max(1,
	// GOMAXPROCS/2), so at least one core stays for the card path.
	Concurrency int
	// Queue is how many requests may wait for a turn; past that they are
	// refused at once (ErrBusy). Default 32.
	Queue int
	// MaxWait bounds a wait for a turn (then ErrBusy). Default 3 s.
	MaxWait time.Duration
	// PerClient is how many logins one client address may have in flight
	// (Admit). Default 2.
	PerClient int
}

// DefaultConcurrency is Options.Concurrency's default: max(1,
// GOMAXPROCS/2), so at least one core stays for the card path.
func DefaultConcurrency() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// MemoryPerCheck is what one argon2 computation allocates, in bytes.
const MemoryPerCheck = memoryKiB << 10

// Defaults of Options.
const (
	DefaultQueue     = 32
	DefaultMaxWait   = 3 * time.Second
	DefaultPerClient = 2
)

// Hasher runs argon2id under fixed bounds, so that a flood of logins costs
// a fixed amount of memory and CPU (Concurrency × 19 MiB) and the rest of
// the server keeps its share. Logins for unknown accounts take a turn in
// the same queue and then wait as long as a real check takes, without
// hashing: they cost the same time and no memory. One Hasher serves the
// whole process; it is safe for concurrent use.
type Hasher struct {
	slots     chan struct{}
	admitted  atomic.Int64 // waiting for a turn or holding one
	limit     int64        // Concurrency + Queue
	maxWait   time.Duration
	perClient int

	mu      sync.Mutex
	clients map[string]int // logins in flight per client address

	costMu   sync.Mutex
	mean     time.Duration // EWMA of a real computation's duration
	dev      time.Duration // EWMA of its absolute deviation from mean
	measured time.Time     // when mean was last updated (zero: never)

	running, peak        atomic.Int64
	computed, simulated  atomic.Int64
	refusedBusy, refused atomic.Int64

	// key is argon2.IDKey; tests replace it to hold a computation.
	key func(password, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte
}

// NewHasher returns a Hasher with o's bounds.
func NewHasher(o Options) *Hasher {
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency()
	}
	if o.Queue <= 0 {
		o.Queue = DefaultQueue
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.PerClient <= 0 {
		o.PerClient = DefaultPerClient
	}
	return &Hasher{
		slots:     make(chan struct{}, o.Concurrency),
		limit:     int64(o.Concurrency + o.Queue),
		maxWait:   o.MaxWait,
		perClient: o.PerClient,
		clients:   map[string]int{},
		key:       argon2.IDKey,
	}
}

// Admit counts one login from client (its address) until leave is called,
// and refuses with ErrClientBusy when client already has PerClient in
// flight: one address cannot fill the queue that every user shares.
func (h *Hasher) Admit(client string) (leave func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.clients[client] >= h.perClient {
		h.refused.Add(1)
		return nil, ErrClientBusy
	}
	h.clients[client]++
	var once sync.Once
	return func() {
		once.Do(func() {
			h.mu.Lock()
			if h.clients[client]--; h.clients[client] <= 0 {
				delete(h.clients, client) // the map holds only clients in flight
			}
			h.mu.Unlock()
		})
	}, nil
}

// Hash returns the argon2id hash of p in PHC format, waiting for a turn.
func (h *Hasher) Hash(ctx context.Context, p string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	t, err := h.Wait(ctx)
	if err != nil {
		return "", err
	}
	defer t.Done()
	return format(salt, t.compute([]byte(p), salt, passes, memoryKiB, lanes, keyLen)), nil
}

// Turn is the right to one password check, from Wait until Done. A login
// takes its turn before it looks the account up, so that a full queue
// refuses before any other work.
type Turn struct {
	h       *Hasher
	release func(rest time.Duration)
	once    sync.Once
	worked  time.Duration // computing, or standing in for a computation
}

// Wait takes a turn: at once if one is free, else after waiting in the
// queue (at most MaxWait, then ErrBusy); a full queue refuses at once with
// ErrBusy. Call Done when the check is over.
func (h *Hasher) Wait(ctx context.Context) (*Turn, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &Turn{h: h, release: release}, nil
}

// Done gives the turn back; calling it again does nothing. The caller goes
// on at once; the turn itself rests as long as its check worked before the
// next waiting request gets it. Under a flood each turn thus keeps a core
// busy half the time at most, and on a small machine the card path keeps
// more than the core Concurrency leaves it. Known and unknown accounts
// rest alike (a simulated check counts as work), so it shows in neither
// one's timing; time spent outside the check (the account lookup) does not
// count, so a slow database does not keep turns resting.
func (t *Turn) Done() { t.once.Do(func() { t.release(t.worked) }) }

// Verify checks p against hash in constant time. An empty hash stands for
// an unknown account: the check takes as long as a real one (the measured
// average, with its spread) and returns ErrMismatch, without computing
// argon2 and its 19 MiB.
func (t *Turn) Verify(ctx context.Context, hash, p string) error {
	if utf8.RuneCountInString(p) > MaxLength {
		return ErrMismatch // before any work, for known and unknown accounts alike
	}
	if hash == "" {
		start := time.Now()
		defer func() { t.worked += time.Since(start) }()
		return t.h.simulate(ctx, p)
	}
	ph, err := parse(hash)
	if err != nil {
		return err
	}
	got := t.compute([]byte(p), ph.salt, ph.t, ph.m, ph.l, uint32(len(ph.key)))
	if subtle.ConstantTimeCompare(got, ph.key) != 1 {
		return ErrMismatch
	}
	return nil
}

// recalibrate is how old the measured cost may get before an unknown
// account's check computes a real hash again, so the simulated time follows
// the machine's load even when no known account logs in.
const recalibrate = time.Minute

// simulate spends a real check's time without computing one. With no
// recent measure it computes a throw-away hash instead, which measures.
func (h *Hasher) simulate(ctx context.Context, p string) error {
	h.costMu.Lock()
	mean, dev, at := h.mean, h.dev, h.measured
	h.costMu.Unlock()
	if at.IsZero() || time.Since(at) > recalibrate {
		var salt [saltLen]byte
		h.compute([]byte(p), salt[:], passes, memoryKiB, lanes, keyLen)
		return ErrMismatch
	}
	h.simulated.Add(1)
	d := mean
	if dev > 0 {
		// Real durations vary; a constant one would stand out.
		d += time.Duration(mrand.Int64N(int64(2*dev))) - dev
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return ErrMismatch
}

// compute runs argon2id on the turn.
func (t *Turn) compute(p, salt []byte, passes, m uint32, l uint8, n uint32) []byte {
	key, d := t.h.compute(p, salt, passes, m, l, n)
	t.worked += d
	return key
}

// compute runs argon2id and feeds its duration to the cost estimate.
func (h *Hasher) compute(p, salt []byte, t, m uint32, l uint8, n uint32) ([]byte, time.Duration) {
	h.computed.Add(1)
	start := time.Now()
	key := h.key(p, salt, t, m, l, n)
	d := time.Since(start)
	h.observe(d)
	return key, d
}

// observe updates the EWMAs (weight 1/8) of a computation's duration.
func (h *Hasher) observe(d time.Duration) {
	h.costMu.Lock()
	defer h.costMu.Unlock()
	if h.measured.IsZero() {
		h.mean, h.dev = d, d/8
	} else {
		diff := d - h.mean
		h.mean += diff / 8
		h.dev += (diff.Abs() - h.dev) / 8
	}
	h.measured = time.Now()
}

// acquire takes a turn: at once if one is free, else after waiting in the
// queue (at most MaxWait); a full queue refuses at once. A request counts
// against Concurrency + Queue from here until its turn has rested (Done).
func (h *Hasher) acquire(ctx context.Context) (release func(rest time.Duration), err error) {
	if h.admitted.Add(1) > h.limit {
		h.admitted.Add(-1)
		h.refusedBusy.Add(1)
		return nil, ErrBusy
	}
	select {
	case h.slots <- struct{}{}:
	default:
		t := time.NewTimer(h.maxWait)
		defer t.Stop()
		select {
		case h.slots <- struct{}{}:
		case <-t.C:
			h.admitted.Add(-1)
			h.refusedBusy.Add(1)
			return nil, fmt.Errorf("%w: no turn within %s", ErrBusy, h.maxWait)
		case <-ctx.Done():
			h.admitted.Add(-1)
			return nil, ctx.Err()
		}
	}
	n := h.running.Add(1)
	for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
	}
	return func(rest time.Duration) {
		h.running.Add(-1)
		free := func() {
			<-h.slots
			h.admitted.Add(-1)
		}
		if rest <= 0 {
			free()
			return
		}
		time.AfterFunc(rest, free)
	}, nil
}

// Stats are a Hasher's counters since it was made.
type Stats struct {
	// Computed counts argon2 computations; Simulated, unknown accounts'
	// checks that only waited.
	Computed, Simulated int64
	// Peak is the most turns held at once.
	Peak int64
	// RefusedBusy counts ErrBusy; RefusedClient, ErrClientBusy.
	RefusedBusy, RefusedClient int64
	// Cost is the current estimate of one computation's duration.
	Cost time.Duration
}

// Stats returns the counters.
func (h *Hasher) Stats() Stats {
	h.costMu.Lock()
	cost := h.mean
	h.costMu.Unlock()
	return Stats{Computed: h.computed.Load(), Simulated: h.simulated.Load(), Peak: h.peak.Load(),
		RefusedBusy: h.refusedBusy.Load(), RefusedClient: h.refused.Load(), Cost: cost}
}
