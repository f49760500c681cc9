package api

import (
	"math"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/qwoty/companion/config"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/store"
)

// Rate limits per API key (docs/api.md, "Limits"): a token bucket per key
// in PostgreSQL, shared by every instance (store.TakeAPIRequest: one
// statement per request, which also counts the request and stamps the
// key's last use). Every answer to a key carries the limit in the fields
// of the IETF httpapi ratelimit-headers draft, revision 10 (structured
// fields: a List of policy Items, each a String with parameters):
//
//	RateLimit-Policy: "per-key";q=600;w=60
//	RateLimit: "per-key";r=97;t=1
//
// q and w are the limit's requests per window; r is what the key may send
// at once now (at most the burst) and t the seconds until its bucket is
// full again. A request over the limit is refused 429 rate_limited with
// Retry-After, the seconds until the bucket holds one request.

// ratePolicy names the limit in both fields.
const ratePolicy = `"per-key"`

// limitRate is the middleware that applies rl (zero: the default) to every
// request authenticated by a key (after authenticate; open operations are
// not limited).
func (a *API) limitRate(rl config.APIRateLimit) func(huma.Context, func(huma.Context)) {
	rl = rl.OrDefault()
	oapi := a.h.OpenAPI()
	oapi.OnAddOperation = append(oapi.OnAddOperation, documentRateLimit)
	rate := store.APIRate{Burst: float64(rl.Burst), PerSecond: rl.PerSecond()}
	policy := ratePolicy + ";q=" + strconv.Itoa(rl.Requests) + ";w=" + strconv.Itoa(int(rl.Window.Seconds()))
	return func(ctx huma.Context, next func(huma.Context)) {
		k := KeyOf(ctx.Context())
		if k == nil {
			next(ctx)
			return
		}
		took, err := a.db.TakeAPIRequest(ctx.Context(), k.ID, rate)
		if err != nil {
			a.fail(ctx, err)
			return
		}
		left := max(0, took.Tokens)
		full := int(math.Ceil((rate.Burst - left) / rate.PerSecond))
		ctx.SetHeader("RateLimit-Policy", policy)
		ctx.SetHeader("RateLimit", ratePolicy+";r="+strconv.Itoa(int(math.Floor(left)))+";t="+strconv.Itoa(full))
		if !took.Allowed {
			wait := max(1, int(math.Ceil((1-left)/rate.PerSecond)))
			ctx.SetHeader("Retry-After", strconv.Itoa(wait))
			a.fail(ctx, qwoty.Errorf(qwoty.CodeRateLimited, "Wait "+strconv.Itoa(wait)+" s (Retry-After), then send it again; "+
				"spread the calls, or ask the server's operator for a higher QWOTY_API_RATE_LIMIT.",
				"this API key is over its rate limit: %s", rl.Text()))
			return
		}
		next(ctx)
	}
}

// documentRateLimit puts the limit into the OpenAPI document of every
// secured operation as it is registered: the RateLimit fields on its
// answers (all but the key's refusals, 401 and 403, which come before the
// limit), and its 429 answer with Retry-After (in the operation's error
// shape).
func documentRateLimit(_ *huma.OpenAPI, op *huma.Operation) {
	if scopeOf(op) == "" {
		return
	}
	fields := func() map[string]*huma.Param {
		return map[string]*huma.Param{
			"RateLimit-Policy": {Description: `The key's rate limit (IETF httpapi ratelimit-headers draft 10): "per-key";q=<requests>;w=<seconds>.`,
				Schema: &huma.Schema{Type: huma.TypeString}},
			"RateLimit": {Description: `What is left of it: "per-key";r=<requests that may be sent at once now>;t=<seconds until the bucket is full>.`,
				Schema: &huma.Schema{Type: huma.TypeString}},
		}
	}
	var errContent map[string]*huma.MediaType
	for status, r := range op.Responses {
		if status == "default" || status[0] == '4' || status[0] == '5' {
			errContent = r.Content
		}
		if status == "401" || status == "403" {
			continue
		}
		if r.Headers == nil {
			r.Headers = map[string]*huma.Param{}
		}
		for name, h := range fields() {
			r.Headers[name] = h
		}
	}
	if d := op.Responses["default"]; d != nil {
		errContent = d.Content
	}
	h := fields()
	h["Retry-After"] = &huma.Param{Description: "Seconds until the key's bucket holds a request again (at least 1).",
		Schema: &huma.Schema{Type: huma.TypeInteger, Minimum: ptr(1.0)}}
	op.Responses["429"] = &huma.Response{Description: "Too Many Requests: the key is over its rate limit (rate_limited).",
		Headers: h, Content: errContent}
}

func ptr[T any](v T) *T { return &v }
