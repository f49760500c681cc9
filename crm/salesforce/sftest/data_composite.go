package sftest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm/salesforce"
)

// sObject Collections (REST API Developer Guide, "sObject Collections"):
// create, update, upsert by external id and delete of up to 200 records in
// one call, with per-record results in order and allOrNone.
//
// Composite ("Composite", "Composite Request Body"): up to 25 subrequests
// (up to 5 of them queries) run in order in one transaction, counted as one
// call, with @{referenceId.path} references to earlier results; with
// allOrNone a failure rolls everything back and the other subrequests
// answer 400 PROCESSING_HALTED.

const (
	rolledBackCode    = "ALL_OR_NONE_OPERATION_ROLLED_BACK"
	rolledBackMessage = "Record rolled back because not all records were valid and the request was using AllOrNone header"
	haltedCode        = "PROCESSING_HALTED"
	haltedMessage     = "The transaction was rolled back since another operation in the same transaction failed."
)

// itemResult is a SaveResult, UpsertResult or DeleteResult.
type itemResult struct {
	ID      any         `json:"id"`
	Success bool        `json:"success"`
	Errors  []itemError `json:"errors"`
	Created *bool       `json:"created,omitempty"`
}

type itemError struct {
	StatusCode string   `json:"statusCode"`
	Message    string   `json:"message"`
	Fields     []string `json:"fields"`
}

func failedItem(e *dmlError) itemResult {
	fields := e.Fields
	if fields == nil {
		fields = []string{}
	}
	return itemResult{Errors: []itemError{{StatusCode: e.Code, Message: e.Message, Fields: fields}}}
}

// collections serves /composite/sobjects and /composite/sobjects/{T}/{field}.
func (d *orgDB) collections(t *tables, version int, method string, seg []string, query url.Values, body []byte, forced bool) answer {
	var req struct {
		AllOrNone bool             `json:"allOrNone"`
		Records   []map[string]any `json:"records"`
	}
	var ids []string
	switch method {
	case http.MethodDelete:
		if len(seg) != 0 {
			return notFound()
		}
		req.AllOrNone = query.Get("allOrNone") == "true"
		for _, id := range strings.Split(query.Get("ids"), ",") {
			if id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return errAnswer(http.StatusBadRequest, "MISSING_ARGUMENT", "ids parameter is required")
		}
	case http.MethodPost, http.MethodPatch:
		if !decodeBody(body, &req) {
			return errAnswer(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not a collection: {\"allOrNone\": ..., \"records\": [...]}")
		}
	default:
		return errAnswer(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+method+"' not allowed.")
	}
	if len(req.Records)+len(ids) > maxCollection {
		return errAnswer(http.StatusBadRequest, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records into this call")
	}
	allOrNone := req.AllOrNone || forced
	work := t
	if allOrNone {
		work = t.clone()
	}

	var results []itemResult
	switch {
	case method == http.MethodDelete:
		for _, id := range ids {
			results = append(results, d.deleteItem(work, id))
		}
	case method == http.MethodPost && len(seg) == 0:
		for _, rec := range req.Records {
			results = append(results, d.createItem(work, rec))
		}
	case method == http.MethodPatch && len(seg) == 0:
		for _, rec := range req.Records {
			results = append(results, d.updateItem(work, rec))
		}
	case method == http.MethodPatch && len(seg) == 2:
		// Upsert by external id, API v46 and later; one type, named in
		// the URL.
		o := lookupObject(seg[0])
		if version < 46 || !d.visible(o) {
			return notFound()
		}
		f := o.field(seg[1])
		if !d.has(f) || !f.ExtID {
			return errAnswer(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+seg[1])
		}
		results = d.upsertItems(work, o, f, req.Records)
	default:
		return notFound()
	}

	failed := 0
	for _, r := range results {
		if !r.Success {
			failed++
		}
	}
	ans := answer{status: http.StatusOK, partial: failed > 0}
	if allOrNone && failed > 0 {
		for i := range results {
			if results[i].Success {
				results[i] = failedItem(dmlErr(rolledBackCode, rolledBackMessage))
			}
			results[i].ID = nil
		}
		ans.failed = true
		if forced {
			// Inside an all-or-none Composite request the failed
			// collection is the subrequest that failed (assumed status).
			ans.status = http.StatusBadRequest
		}
	} else if allOrNone {
		*t = *work
	}
	ans.body = results
	return ans
}

// typeOf reads a record's attributes.type.
func typeOf(rec map[string]any) *object {
	attrs, _ := rec["attributes"].(map[string]any)
	name, _ := attrs["type"].(string)
	return lookupObject(name)
}

func (d *orgDB) createItem(t *tables, rec map[string]any) itemResult {
	o := typeOf(rec)
	if !d.visible(o) {
		return failedItem(dmlErr("INVALID_TYPE", "Each record needs an attributes map with a type this org knows"))
	}
	id, err := d.insert(t, o, rec)
	if err != nil {
		return failedItem(err)
	}
	return itemResult{ID: id, Success: true, Errors: []itemError{}}
}

func (d *orgDB) updateItem(t *tables, rec map[string]any) itemResult {
	o := typeOf(rec)
	if !d.visible(o) {
		return failedItem(dmlErr("INVALID_TYPE", "Each record needs an attributes map with a type this org knows"))
	}
	id, _ := rec["id"].(string)
	if id == "" {
		id, _ = rec["Id"].(string)
	}
	if id == "" {
		return failedItem(dmlErr("MISSING_ARGUMENT", "Id not specified in an update call"))
	}
	body := map[string]any{}
	for k, v := range rec {
		if k != "id" && k != "Id" {
			body[k] = v
		}
	}
	if err := d.update(t, o, id, body); err != nil {
		return failedItem(err)
	}
	norm, _ := d.find(t, o, id)
	return itemResult{ID: norm.String("Id"), Success: true, Errors: []itemError{}}
}

func (d *orgDB) deleteItem(t *tables, id string) itemResult {
	norm, err := salesforce.NormalizeID(id)
	if err != nil {
		return failedItem(dmlErr("MALFORMED_ID", "malformed id "+id))
	}
	for _, o := range schema {
		if !d.visible(o) || !strings.HasPrefix(norm, o.Prefix) {
			continue
		}
		if err := d.delete(t, o, norm); err != nil {
			return failedItem(err)
		}
		return itemResult{ID: norm, Success: true, Errors: []itemError{}}
	}
	return failedItem(dmlErr("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id"))
}

// upsertItems upserts records of o by f in order. Records of the request
// that carry the same external id are all refused, as Salesforce marks them.
func (d *orgDB) upsertItems(t *tables, o *object, f *field, recs []map[string]any) []itemResult {
	seen := map[string]int{}
	for _, rec := range recs {
		if v, ok := rec[f.Name].(string); ok {
			seen[v]++
		}
	}
	var out []itemResult
	for _, rec := range recs {
		if ot := typeOf(rec); ot != o {
			out = append(out, failedItem(dmlErr("INVALID_TYPE", "Each record must be of the type in the URL: "+o.Name)))
			continue
		}
		v, _ := rec[f.Name].(string)
		if seen[v] > 1 {
			// Assumed wording.
			out = append(out, failedItem(dmlErr("DUPLICATE_EXTERNAL_ID", "Duplicate external id specified: "+v, f.Name)))
			continue
		}
		if _, hasID := rec["id"]; hasID {
			out = append(out, failedItem(dmlErr("INVALID_FIELD", "Don't set the id field: records are matched by "+f.Name)))
			continue
		}
		id, created, many, err := d.upsert(t, o, f, rec)
		switch {
		case err != nil:
			out = append(out, failedItem(err))
		case many != nil:
			var ids []string
			for _, m := range many {
				ids = append(ids, m.String("Id"))
			}
			// Assumed wording.
			out = append(out, failedItem(dmlErr("DUPLICATE_EXTERNAL_ID", f.Name+": more than one record found for external id field: "+
				strings.Join(ids, ", "), f.Name)))
		default:
			c := created
			out = append(out, itemResult{ID: id, Success: true, Errors: []itemError{}, Created: &c})
		}
	}
	return out
}

var (
	referenceID = regexp.MustCompile(`^[A-Za-z0-9_]{1,80}$`)
	reference   = regexp.MustCompile(`@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[[0-9]+\])*)\}`)
)

type subrequest struct {
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	ReferenceID string            `json:"referenceId"`
	Body        any               `json:"body"`
	HTTPHeaders map[string]string `json:"httpHeaders"`
}

type subresult struct {
	Body           any               `json:"body"`
	HTTPHeaders    map[string]string `json:"httpHeaders"`
	HTTPStatusCode int               `json:"httpStatusCode"`
	ReferenceID    string            `json:"referenceId"`
}

// composite runs a Composite request as one transaction.
func (d *orgDB) composite(version int, body []byte) answer {
	var req struct {
		AllOrNone bool         `json:"allOrNone"`
		Collate   *bool        `json:"collateSubrequests"`
		Requests  []subrequest `json:"compositeRequest"`
	}
	if !decodeBody(body, &req) || len(req.Requests) == 0 {
		return errAnswer(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body needs a compositeRequest list")
	}
	// Assumed codes and wordings for the limits.
	if len(req.Requests) > maxSubrequests {
		return errAnswer(http.StatusBadRequest, "LIMIT_EXCEEDED", "A composite request can have at most 25 subrequests")
	}
	queries := 0
	refs := map[string]bool{}
	for _, sr := range req.Requests {
		if !referenceID.MatchString(sr.ReferenceID) || refs[sr.ReferenceID] {
			return errAnswer(http.StatusBadRequest, "INVALID_INPUT", "Each subrequest needs a referenceId of letters, digits and underscores, unique in the request")
		}
		refs[sr.ReferenceID] = true
		if strings.Contains(sr.URL, "/query") {
			queries++
		}
		for h := range sr.HTTPHeaders {
			if strings.EqualFold(h, "Accept") || strings.EqualFold(h, "Authorization") || strings.EqualFold(h, "Content-Type") {
				return errAnswer(http.StatusBadRequest, "INVALID_INPUT", "Subrequests inherit the "+h+" header: do not set it")
			}
		}
	}
	if queries > maxQueries {
		return errAnswer(http.StatusBadRequest, "LIMIT_EXCEEDED", "A composite request can have at most 5 query subrequests")
	}

	tx := d.data.clone()
	results := make([]subresult, len(req.Requests))
	done := map[string]any{} // referenceId → its answer's body, as JSON values
	failedAt := -1
	for i, sr := range req.Requests {
		results[i] = subresult{HTTPHeaders: map[string]string{}, ReferenceID: sr.ReferenceID}
		ans := d.subrequest(tx, version, sr, done, req.AllOrNone)
		results[i].HTTPStatusCode, results[i].Body = ans.status, ans.body
		if !ans.failed && ans.status < 300 {
			done[sr.ReferenceID] = jsonRoundTrip(ans.body)
		}
		if req.AllOrNone && (ans.failed || ans.partial) {
			failedAt = i
			break
		}
	}
	if failedAt >= 0 {
		for i := range results {
			if i != failedAt {
				results[i].HTTPStatusCode = http.StatusBadRequest
				results[i].Body = []map[string]any{{"errorCode": haltedCode, "message": haltedMessage}}
				results[i].ReferenceID = req.Requests[i].ReferenceID
				results[i].HTTPHeaders = map[string]string{}
			}
		}
	} else {
		d.data = tx
	}
	return answer{status: http.StatusOK, body: map[string]any{"compositeResponse": results}}
}

// subrequest resolves a subrequest's references and runs it on tx.
func (d *orgDB) subrequest(tx *tables, version int, sr subrequest, done map[string]any, allOrNone bool) answer {
	target, missing := resolve(sr.URL, done, false)
	if missing != "" {
		return unresolved(missing)
	}
	var body []byte
	if sr.Body != nil {
		b, missing := resolveValue(sr.Body, done)
		if missing != "" {
			return unresolved(missing)
		}
		body, _ = json.Marshal(b)
	}
	path, rawQuery, _ := strings.Cut(target.(string), "?")
	m := versionPath.FindStringSubmatch(path)
	if m == nil {
		return notFound()
	}
	subVersion, _ := strconv.Atoi(m[1])
	if subVersion != version || m[2] == "composite" {
		return errAnswer(http.StatusBadRequest, "INVALID_INPUT", "A subrequest must be a resource of the same API version, not a composite request")
	}
	return d.dispatch(tx, version, strings.ToUpper(sr.Method), m[2], rawQuery, body, allOrNone)
}

// Assumed code and wording for a reference to nothing.
func unresolved(expr string) answer {
	return errAnswer(http.StatusBadRequest, haltedCode, "Invalid reference specified. No value for "+expr+" found.")
}

// resolveValue replaces the references in every string of a JSON value.
func resolveValue(v any, done map[string]any) (any, string) {
	switch x := v.(type) {
	case string:
		return resolve(x, done, true)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, missing := resolveValue(e, done)
			if missing != "" {
				return nil, missing
			}
			out[k] = r
		}
		return out, ""
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, missing := resolveValue(e, done)
			if missing != "" {
				return nil, missing
			}
			out[i] = r
		}
		return out, ""
	}
	return v, ""
}

// resolve replaces @{ref.path} in s: a string that is one whole reference
// in a body takes the referenced value as it is.
func resolve(s string, done map[string]any, body bool) (any, string) {
	missing := ""
	if m := reference.FindStringSubmatch(s); body && m != nil && m[0] == s {
		v, ok := walk(done, m[1], m[2])
		if !ok {
			return nil, strings.TrimSuffix(strings.TrimPrefix(s, "@{"), "}")
		}
		return v, ""
	}
	out := reference.ReplaceAllStringFunc(s, func(expr string) string {
		m := reference.FindStringSubmatch(expr)
		v, ok := walk(done, m[1], m[2])
		if !ok {
			missing = m[1] + m[2]
			return ""
		}
		switch x := v.(type) {
		case string:
			return x
		case json.Number:
			return x.String()
		}
		b, _ := json.Marshal(v)
		return string(b)
	})
	return out, missing
}

var pathStep = regexp.MustCompile(`\.([A-Za-z0-9_]+)|\[([0-9]+)\]`)

// walk follows a reference's path (.field, [index]) in a result.
func walk(done map[string]any, ref, path string) (any, bool) {
	v, ok := done[ref]
	if !ok {
		return nil, false
	}
	for _, step := range pathStep.FindAllStringSubmatch(path, -1) {
		switch x := v.(type) {
		case map[string]any:
			if step[1] == "" {
				return nil, false
			}
			if v, ok = x[step[1]]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(step[2])
			if step[2] == "" || err != nil || i >= len(x) {
				return nil, false
			}
			v = x[i]
		default:
			return nil, false
		}
	}
	return v, v != nil
}

// jsonRoundTrip turns an answer's body into plain JSON values.
func jsonRoundTrip(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	decodeBody(b, &out)
	return out
}
