package api

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Idempotency-Key (docs/api.md, "Idempotency"): a write sent with the
// header runs once per API key and key within 24 hours. The first request
// claims the key in the database before it runs (store.ClaimIdempotency);
// its answer is stored when it is a client's (2xx, 4xx) and replayed, with
// Idempotent-Replayed: true, to a later request with the same key, method,
// path and body. A duplicate that arrives while the first still runs waits
// for its answer, up to idemWait. An answer of ours (5xx) is not kept, so a
// retry runs the write again.
const (
	// ReplayedHeader marks a replayed answer.
	ReplayedHeader = "Idempotent-Replayed"
	// idemWait is how long a duplicate waits for the first request.
	idemWait = 10 * time.Second
	// idemLease is how long a claim holds without an answer before
	// another request with the same key may take it over (the instance
	// that claimed it died).
	idemLease = time.Minute
)

// idempotent is the middleware of every write operation.
func (a *API) idempotent(ctx huma.Context, next func(huma.Context)) {
	key := ctx.Header("Idempotency-Key")
	k := KeyOf(ctx.Context())
	if key == "" || k == nil || !isWrite(ctx.Method()) {
		next(ctx)
		return
	}
	if len(key) > MaxIdempotencyKeyLen || !printableASCII(key) {
		a.fail(ctx, &qwoty.Error{Code: qwoty.CodeValidation, Field: "Idempotency-Key",
			Message: "the Idempotency-Key header is not 1 to 255 visible ASCII characters",
			Hint:    "Use a fresh UUID per write."})
		return
	}
	body, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), MaxBodyBytes+1))
	if err != nil {
		a.fail(ctx, qwoty.Errorf(qwoty.CodeBadRequest, "Send the body again.", "the request body could not be read"))
		return
	}
	if len(body) > MaxBodyBytes {
		a.fail(ctx, qwoty.E(qwoty.CodePayloadTooLarge, "the request body is over %d bytes", MaxBodyBytes))
		return
	}
	u := ctx.URL()
	h := sha256.New()
	for _, part := range [][]byte{[]byte(ctx.Method()), []byte(u.Path), []byte(u.RawQuery), body} {
		h.Write(part)
		h.Write([]byte{0})
	}
	hash := h.Sum(nil)

	deadline := time.Now().Add(idemWait)
	pause := 20 * time.Millisecond
	for {
		outcome, ans, err := a.db.ClaimIdempotency(ctx.Context(), k.ID, key, hash, idemLease)
		if err != nil {
			a.fail(ctx, err)
			return
		}
		switch outcome {
		case store.IdemMismatch:
			a.fail(ctx, qwoty.E(qwoty.CodeIdempotencyKeyReused,
				"the Idempotency-Key %q was used within 24 hours for another request (method, path or body)", key))
			return
		case store.IdemReplay:
			if ans.ContentType != "" {
				ctx.SetHeader("Content-Type", ans.ContentType)
			}
			if ans.Location != "" {
				ctx.SetHeader("Location", ans.Location)
			}
			ctx.SetHeader(ReplayedHeader, "true")
			ctx.SetStatus(ans.Status)
			_, _ = ctx.BodyWriter().Write(ans.Body)
			return
		case store.IdemClaimed:
			a.runClaimed(ctx, next, k.ID, key, body)
			return
		}
		// In progress: wait for the first request's answer.
		if time.Now().Add(pause).After(deadline) {
			a.fail(ctx, qwoty.E(qwoty.CodeIdempotencyKeyInProgress, "a request with the Idempotency-Key %q is still running", key))
			return
		}
		select {
		case <-ctx.Context().Done():
			return
		case <-time.After(pause):
		}
		pause = min(pause*2, 250*time.Millisecond)
	}
}

// runClaimed runs the write whose key this request claimed, and stores
// its answer (or gives the key up when the answer is ours, a 5xx).
func (a *API) runClaimed(ctx huma.Context, next func(huma.Context), keyID, key string, body []byte) {
	rec := &recorder{innerCtx: ctx, body: body, status: http.StatusOK}
	done := false
	defer func() {
		// A panic or a 5xx leaves no answer to replay: the key is freed.
		c := ctx.Context()
		if !done || rec.status >= 500 {
			if err := a.db.ReleaseIdempotency(c, keyID, key); err != nil {
				a.log.ErrorContext(c, "idempotency key not released", "error", err.Error())
			}
			return
		}
		if err := a.db.FinishIdempotency(c, keyID, key, store.IdemAnswer{Status: rec.status, ContentType: rec.contentType,
			Location: rec.location, Body: rec.out.Bytes()}); err != nil {
			a.log.ErrorContext(c, "idempotent answer not stored", "error", err.Error())
		}
	}()
	next(rec)
	done = true
}

func isWrite(method string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

func printableASCII(s string) bool {
	for i := range len(s) {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// innerCtx is huma.Context under a name that does not hide its Context
// method when embedded.
type innerCtx huma.Context

// recorder is the request's context for the write's handler: it gives
// the body already read, and keeps a copy of the answer as it is written.
type recorder struct {
	innerCtx
	body        []byte
	status      int
	contentType string
	location    string
	out         bytes.Buffer
}

func (r *recorder) Unwrap() huma.Context { return r.innerCtx }

func (r *recorder) BodyReader() io.Reader { return bytes.NewReader(r.body) }

func (r *recorder) SetStatus(code int) {
	r.status = code
	r.innerCtx.SetStatus(code)
}

func (r *recorder) SetHeader(name, value string) {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Type":
		r.contentType = value
	case "Location":
		r.location = value
	}
	r.innerCtx.SetHeader(name, value)
}

func (r *recorder) BodyWriter() io.Writer { return io.MultiWriter(r.innerCtx.BodyWriter(), &r.out) }
