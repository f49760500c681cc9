package password

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(Options{})
	hash, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, "horse") {
		t.Fatalf("hash = %q, want an argon2id PHC string without the password", hash)
	}
	if err := verify(h, ctx, hash, "correct horse battery staple"); err != nil {
		t.Fatalf("the right password was refused: %v", err)
	}
	if err := verify(h, ctx, hash, "correct horse battery stapler"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("a wrong password: %v, want ErrMismatch", err)
	}
	if err := verify(h, ctx, hash, strings.Repeat("x", MaxLength+1)); !errors.Is(err, ErrMismatch) {
		t.Fatalf("an overlong password: %v, want ErrMismatch", err)
	}
	h2, _ := h.Hash(ctx, "correct horse battery staple")
	if h2 == hash {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, bad := range []string{"$bcrypt$x", "$argon2id$v=19$m=1,t=1,p=1$!!$!!",
		"$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5"} {
		if err := verify(h, ctx, bad, "x"); err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a malformed-hash error", bad, err)
		}
	}
}

// heldKey replaces argon2 with a function that counts the computations in
// progress and blocks until release is closed (or sleeps d when it is nil).
type heldKey struct {
	release     chan struct{}
	d           time.Duration
	now, peak   atomic.Int64
	calls       atomic.Int64
	started     chan struct{}
	startedOnce sync.Once
}

func (k *heldKey) key(p, salt []byte, _, _ uint32, _ uint8, n uint32) []byte {
	k.calls.Add(1)
	cur := k.now.Add(1)
	for p := k.peak.Load(); cur > p && !k.peak.CompareAndSwap(p, cur); p = k.peak.Load() {
	}
	if k.started != nil {
		k.started <- struct{}{}
	}
	if k.release != nil {
		<-k.release
	} else {
		time.Sleep(k.d)
	}
	k.now.Add(-1)
	return bytes.Repeat([]byte{1}, int(n)) // never fakeHash's key

}

func fakeHash(t *testing.T) string {
	t.Helper()
	h := NewHasher(Options{})
	h.key = func(_, _ []byte, _, _ uint32, _ uint8, n uint32) []byte { return make([]byte, n) }
	s, err := h.Hash(context.Background(), "x")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHasherRunsAtMostConcurrencyAndRefusesWhenTheQueueIsFull(t *testing.T) {
	const conc, queue = 2, 3
	k := &heldKey{release: make(chan struct{}), started: make(chan struct{}, conc+queue)}
	h := NewHasher(Options{Concurrency: conc, Queue: queue, MaxWait: time.Minute})
	h.key = k.key
	hash := fakeHash(t)

	var wg sync.WaitGroup
	errs := make(chan error, conc+queue)
	for range conc + queue {
		wg.Go(func() { errs <- verify(h, context.Background(), hash, "guess") })
	}
	for range conc {
		<-k.started
	}
	// Every turn is taken and the queue is full once all have been admitted.
	deadline := time.Now().Add(5 * time.Second)
	for h.admitted.Load() < conc+queue && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	err := verify(h, context.Background(), hash, "one more")
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("a check beyond Concurrency+Queue: %v, want ErrBusy", err)
	}
	if took := time.Since(start); took > 100*time.Millisecond {
		t.Fatalf("the refusal took %s, want it at once", took)
	}
	if _, err := h.Hash(context.Background(), "new password!"); !errors.Is(err, ErrBusy) {
		t.Fatalf("Hash with the queue full: %v, want ErrBusy", err)
	}
	close(k.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrMismatch) {
			t.Fatalf("a queued check: %v, want ErrMismatch (it waited for its turn)", err)
		}
	}
	if p := k.peak.Load(); p != conc {
		t.Fatalf("%d computations ran at once, want at most (and here exactly) %d", p, conc)
	}
	if s := h.Stats(); s.Peak != conc || s.RefusedBusy != 2 {
		t.Fatalf("stats %+v, want Peak %d and RefusedBusy 2", s, conc)
	}
}

func TestHasherBoundsTheWait(t *testing.T) {
	k := &heldKey{release: make(chan struct{}), started: make(chan struct{}, 1)}
	defer close(k.release)
	h := NewHasher(Options{Concurrency: 1, Queue: 10, MaxWait: 150 * time.Millisecond})
	h.key = k.key
	hash := fakeHash(t)
	go func() { _ = verify(h, context.Background(), hash, "holds the only turn") }()
	<-k.started
	start := time.Now()
	err := verify(h, context.Background(), hash, "waits")
	took := time.Since(start)
	if !errors.Is(err, ErrBusy) || took < 150*time.Millisecond || took > time.Second {
		t.Fatalf("a check that never got a turn: %v after %s, want ErrBusy after MaxWait (150ms)", err, took)
	}
}

func TestUnknownAccountTakesAsLongWithoutHashing(t *testing.T) {
	const cost = 40 * time.Millisecond
	k := &heldKey{d: cost}
	h := NewHasher(Options{Concurrency: 1})
	h.key = k.key
	hash := fakeHash(t)
	ctx := context.Background()

	// The first unknown account, with nothing measured yet, computes a
	// throw-away hash: that is the measure.
	if err := verify(h, ctx, "", "guess"); !errors.Is(err, ErrMismatch) {
		t.Fatalf("unknown account: %v, want ErrMismatch", err)
	}
	for range 3 {
		_ = verify(h, ctx, hash, "guess") // known accounts keep the measure fresh
	}
	before := k.calls.Load()
	const n = 8
	var total time.Duration
	for range n {
		time.Sleep(2 * cost) // past the previous turn's rest
		start := time.Now()
		if err := verify(h, ctx, "", "guess"); !errors.Is(err, ErrMismatch) {
			t.Fatalf("unknown account: %v, want ErrMismatch", err)
		}
		total += time.Since(start)
	}
	avg := total / n
	if calls := k.calls.Load() - before; calls != 0 {
		t.Fatalf("%d unknown-account checks computed argon2 %d times, want 0", n, calls)
	}
	if avg < cost*3/4 || avg > cost*2 {
		t.Fatalf("an unknown account's check took %s on average, want about a real one's %s", avg, cost)
	}
	if s := h.Stats(); s.Simulated != n {
		t.Fatalf("stats %+v, want Simulated %d", s, n)
	}

	// A stale measure is refreshed by a real computation.
	time.Sleep(2 * cost)
	h.costMu.Lock()
	h.measured = time.Now().Add(-2 * recalibrate)
	h.costMu.Unlock()
	_ = verify(h, ctx, "", "guess")
	if calls := k.calls.Load() - before; calls != 1 {
		t.Fatalf("after the measure went stale: %d computations, want 1", calls)
	}
}

func TestUnknownAccountWaitsForItsTurnLikeAKnownOne(t *testing.T) {
	k := &heldKey{release: make(chan struct{}), started: make(chan struct{}, 1)}
	h := NewHasher(Options{Concurrency: 1, Queue: 1, MaxWait: time.Minute})
	h.key = k.key
	hash := fakeHash(t)
	h.observe(time.Millisecond)
	go func() { _ = verify(h, context.Background(), hash, "holds the turn") }()
	<-k.started
	done := make(chan error, 1)
	go func() { done <- verify(h, context.Background(), "", "unknown") }()
	select {
	case err := <-done:
		t.Fatalf("an unknown account's check returned (%v) while the only turn was taken", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := verify(h, context.Background(), "", "third"); !errors.Is(err, ErrBusy) {
		t.Fatalf("an unknown account with the queue full: %v, want ErrBusy", err)
	}
	close(k.release)
	if err := <-done; !errors.Is(err, ErrMismatch) {
		t.Fatalf("unknown account: %v, want ErrMismatch", err)
	}
}

func TestAdmitCapsLoginsPerClient(t *testing.T) {
	h := NewHasher(Options{PerClient: 2})
	l1, err1 := h.Admit("192.0.2.1")
	l2, err2 := h.Admit("192.0.2.1")
	if err1 != nil || err2 != nil {
		t.Fatalf("the first two logins of a client: %v, %v", err1, err2)
	}
	if _, err := h.Admit("192.0.2.1"); !errors.Is(err, ErrClientBusy) {
		t.Fatalf("a third login in flight from one address: %v, want ErrClientBusy", err)
	}
	l3, err := h.Admit("192.0.2.2")
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	l1()
	l1() // leaving twice frees one place only
	l4, err := h.Admit("192.0.2.1")
	if err != nil {
		t.Fatalf("after one login ended: %v", err)
	}
	if _, err := h.Admit("192.0.2.1"); !errors.Is(err, ErrClientBusy) {
		t.Fatalf("leave counted twice: %v, want ErrClientBusy", err)
	}
	l2()
	l3()
	l4()
	if len(h.clients) != 0 {
		t.Fatalf("clients with nothing in flight are kept: %v", h.clients)
	}
}

func TestCheck(t *testing.T) {
	const email = "ada.lovelace@acme.example"
	for _, tc := range []struct {
		pw   string
		want error // nil: accepted; errShort/errLong by message
	}{
		{"twelve chars", nil},
		{"correct horse battery", nil},
		{"a long enough password", nil},
		{"Tr0ub4dor&3 is old", nil},
		{"purple lantern ferry", nil},
		{"password1234", ErrCommon},
		{"Password2024!", ErrCommon},
		{"P@ssw0rd!2024", ErrCommon},
		{"PASSWORD-12345", ErrCommon},
		{"iloveyou2023!", ErrCommon},
		{"monkeymonkey", ErrCommon},
		{"4321drowssap", ErrCommon},
		{"Liverpool1892", ErrCommon},
		{"jennifer1985!", ErrCommon},
		{"Summer2025!!", ErrCommon},
		{"1q2w3e4r5t6y", ErrSequence},
		{"welcome to qwoty", nil},
		{"aaaaaaaaaaaa", ErrRepeated},
		{"abababababab", ErrRepeated},
		{"112112112112", ErrRepeated},
		{"abcdefghijkl", ErrSequence},
		{"abcdefgh1234", ErrSequence},
		{"123456789012", ErrSequence},
		{"qwertyuiop12", ErrSequence},
		{"zyxwvutsrqpo", ErrSequence},
		{"abcdabcdabcd", ErrSequence},
		{"1qaz2wsx3edc", ErrCommon},
		{"lovelace was first", ErrEmail},
		{"my adalovelace key", ErrEmail},
	} {
		err := Check(tc.pw, email)
		if !errors.Is(err, tc.want) {
			t.Errorf("Check(%q) = %v, want %v", tc.pw, err, tc.want)
		}
	}
	if Check("short", email) == nil || Check(strings.Repeat("ab1", 100), email) == nil {
		t.Fatal("Check accepted a password out of bounds")
	}
	for line := range strings.Lines(commonText) {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") && (line != strings.ToLower(line) || strings.ContainsAny(line, " \t")) {
			t.Errorf("common.txt line %q: want lower case without spaces", line)
		}
	}
	if n := len(common()); n < 1500 {
		t.Fatalf("common.txt has %d roots, want the full list", n)
	}
}

func TestATurnRestsAsLongAsItsCheckWorked(t *testing.T) {
	const work = 150 * time.Millisecond
	k := &heldKey{d: work}
	h := NewHasher(Options{Concurrency: 1, Queue: 1, MaxWait: 5 * time.Second})
	h.key = k.key
	hash := fakeHash(t)
	ctx := context.Background()

	if err := verify(h, ctx, hash, "guess"); !errors.Is(err, ErrMismatch) {
		t.Fatal(err)
	}
	done := time.Now()
	next, err := h.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(done); waited < work*3/4 {
		t.Fatalf("the next turn came %s after a %s check ended, want the turn to rest about as long", waited, work)
	}
	// Time held outside a check (the account lookup) is no work: no rest.
	time.Sleep(work)
	done = time.Now()
	next.Done()
	if took := time.Since(done); took > 20*time.Millisecond {
		t.Fatalf("Done took %s: the caller must not wait for the rest", took)
	}
	last, err := h.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer last.Done()
	if waited := time.Since(done); waited > work/2 {
		t.Fatalf("after a turn that checked nothing, the next waited %s, want no rest", waited)
	}
}

// verify takes a turn and checks p against hash, as a login does.
func verify(h *Hasher, ctx context.Context, hash, p string) error {
	t, err := h.Wait(ctx)
	if err != nil {
		return err
	}
	defer t.Done()
	return t.Verify(ctx, hash, p)
}
