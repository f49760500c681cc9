package sftest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm/salesforce"
)

// pingPath is what the package's QwotyCallout signs and posts to.
const pingPath = "/api/crm/ping"

// calloutAnswer is QwotyCallout.Response.
type calloutAnswer struct {
	ok            bool
	reachedServer bool
	status        int
	body          map[string]any
	code, message string
	requestID     string
}

type pingStep struct {
	Name    string  `json:"name"`
	OK      bool    `json:"ok"`
	Code    *string `json:"code"`
	Message string  `json:"message"`
}

// ping runs QwotyPing as u: read the config, make the signed callout, report
// config, callout and signature. It always answers 200 once the Apex runs.
//
// The Apex posts through the Qwoty_API named credential; the emulator has
// none, so it posts to the stored appUrl, which the connect flow wrote.
func (s *Server) ping(w http.ResponseWriter, r *http.Request, u *user) {
	s.mu.Lock()
	cfg := u.org.config
	s.mu.Unlock()
	orgID := u.org.ID

	var steps []pingStep
	var answer *calloutAnswer
	if !cfg.Configured || strings.TrimSpace(cfg.Secret) == "" {
		steps = append(steps, step("config", false, "CONFIG_NOT_FOUND",
			"The Qwoty Config custom setting has no org default with a secret: the org is not connected to Qwoty yet."))
	} else {
		msg := "Qwoty Config has a secret."
		if strings.TrimSpace(cfg.AppURL) != "" {
			msg = "Qwoty Config has a secret for " + cfg.AppURL + "."
		}
		steps = append(steps, step("config", true, "", msg))
		answer = s.post(r.Context(), cfg.AppURL+pingPath, orgID, cfg.Secret)
	}

	switch {
	case answer == nil:
		steps = append(steps, step("callout", false, "SKIPPED", "Not run: the config step failed."))
	case !answer.reachedServer:
		steps = append(steps, step("callout", false, answer.code, answer.message))
	default:
		steps = append(steps, step("callout", true, "", "The Qwoty server answered HTTP "+strconv.Itoa(answer.status)+"."))
	}
	if answer == nil || !answer.reachedServer {
		steps = append(steps, step("signature", false, "SKIPPED", "Not run: the callout step failed."))
	} else {
		steps = append(steps, signatureStep(answer, orgID))
	}

	ok := true
	for _, st := range steps {
		ok = ok && st.OK
	}
	report := map[string]any{"ok": ok, "orgId": orgID, "scheme": "v1", "status": nil, "requestId": nil, "steps": steps}
	if answer != nil && answer.reachedServer {
		report["status"] = answer.status
	}
	if answer != nil && answer.requestID != "" {
		report["requestId"] = answer.requestID
	}
	writeJSON(w, http.StatusOK, report)
}

// post is QwotyCallout.post: sign "{}" with scheme v1 and POST it.
func (s *Server) post(ctx context.Context, endpoint, orgID, secret string) *calloutAnswer {
	body := []byte("{}")
	// The callout outlives nothing: Apex waits for it within the request.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return &calloutAnswer{code: "CALLOUT_FAILED", message: err.Error()}
	}
	req.Header = salesforce.SignedHeaders(orgID, []byte(secret), pingPath, body, s.now(), salesforce.NewNonce())
	resp, err := s.callout.Do(req)
	if err != nil {
		return &calloutAnswer{code: "CALLOUT_FAILED", message: calloutMessage(err)}
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	return interpret(resp.StatusCode, text)
}

// calloutMessage words a transport failure as Apex's CalloutException does
// for the common cases.
func calloutMessage(err error) string {
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "Read timed out"
	}
	return err.Error()
}

// interpret is QwotyCallout.interpret: a 200 with a JSON object is success;
// any other status is read as the server's {"error":{...}}, or reported as
// HTTP_<status> when the body is not that shape.
func interpret(status int, text []byte) *calloutAnswer {
	var parsed any
	if strings.TrimSpace(string(text)) != "" {
		_ = json.Unmarshal(text, &parsed)
	}
	out := &calloutAnswer{reachedServer: true, status: status}
	if status == http.StatusOK {
		obj, isObj := parsed.(map[string]any)
		if !isObj {
			out.code, out.message = "INVALID_RESPONSE", "The Qwoty server answered 200 without a JSON object."
			return out
		}
		out.ok, out.body = true, obj
		out.requestID, _ = obj["requestId"].(string)
		return out
	}
	var errObj map[string]any
	if obj, isObj := parsed.(map[string]any); isObj {
		errObj, _ = obj["error"].(map[string]any)
	}
	code, _ := errObj["code"].(string)
	if strings.TrimSpace(code) == "" {
		out.code = "HTTP_" + strconv.Itoa(status)
		out.message = "The Qwoty server answered HTTP " + strconv.Itoa(status) + " without a Qwoty error body."
		return out
	}
	out.code = code
	out.message, _ = errObj["message"].(string)
	out.requestID, _ = errObj["requestId"].(string)
	return out
}

// signatureStep is QwotyPing.signatureStep.
func signatureStep(a *calloutAnswer, orgID string) pingStep {
	if !a.ok {
		return step("signature", false, a.code, a.message)
	}
	if ok, _ := a.body["ok"].(bool); !ok {
		return step("signature", false, "INVALID_RESPONSE", `The Qwoty server answered 200 without "ok": true.`)
	}
	if got, _ := a.body["orgId"].(string); got != orgID {
		return step("signature", false, "INVALID_RESPONSE",
			"The Qwoty server verified the request for org "+apexString(a.body["orgId"])+" instead of "+orgID+".")
	}
	return step("signature", true, "", "The Qwoty server accepted the signature.")
}

// apexString is how Apex concatenates an Object: null as "null".
func apexString(v any) string {
	if v == nil {
		return "null"
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func step(name string, ok bool, code, message string) pingStep {
	st := pingStep{Name: name, OK: ok, Message: message}
	if code != "" {
		st.Code = &code
	}
	return st
}
