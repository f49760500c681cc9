package sftest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// The REST API's data resources under /services/data/vXX.X/ that sync uses:
// sObject basic information, rows (by id and by external id), sObject
// Collections, Composite and Query. Every answer carries Sforce-Limit-Info,
// and an org whose daily allocation is spent answers 403
// REQUEST_LIMIT_EXCEEDED.

const (
	// DefaultAPILimit is an org's daily API allocation unless Org.APILimit
	// says otherwise: a Developer Edition's 15,000 (the smallest).
	DefaultAPILimit = 15_000
	// LimitHeader carries the org's usage on every REST answer:
	// "api-usage=used/limit" (REST API Developer Guide, "Limit Info Header").
	LimitHeader = "Sforce-Limit-Info"

	// maxCollection: sObject Collections take up to 200 records.
	maxCollection = 200
	// maxSubrequests and maxQueries: a Composite request holds up to 25
	// subrequests, of which up to 5 queries.
	maxSubrequests = 25
	maxQueries     = 5
	// queryBatch is a query answer's page: 2,000 rows by default.
	queryBatch = 2000
	// maxDataBody bounds what the emulator reads of a request: a
	// non-multipart body is "limited to 50 MB of text data or 37.5 MB of
	// base64-encoded data" (REST API Developer Guide, "Insert or Update
	// Blob Data"; maxBase64, data_dml.go). Multipart bodies are not
	// emulated.
	maxDataBody = 50 << 20
	// maxCursors bounds the query locators an org keeps.
	maxCursors = 100
)

// answer is one resource's answer: its status and JSON body (nil: none).
// failed says that what it did must not be committed (an error, or an
// all-or-none collection with a failed record); partial that some records
// failed and the others were saved.
type answer struct {
	status          int
	body            any
	failed, partial bool
}

func errAnswer(status int, code, message string) answer {
	return answer{status: status, body: []map[string]any{{"message": message, "errorCode": code}}, failed: true}
}

func dmlAnswer(status int, e *dmlError) answer {
	body := map[string]any{"message": e.Message, "errorCode": e.Code}
	if len(e.Fields) > 0 {
		body["fields"] = e.Fields
	}
	return answer{status: status, body: []map[string]any{body}, failed: true}
}

func notFound() answer {
	return errAnswer(http.StatusNotFound, "NOT_FOUND", "The requested resource does not exist")
}

// queryPath is a Query or QueryAll request, a first page or a next one.
var queryPath = regexp.MustCompile(`^/services/data/v[0-9]{2}\.0/query(?:All)?/`)

var versionPath = regexp.MustCompile(`^/services/data/v([0-9]{2})\.0(?:/(.*))?$`)

// dataAPI is /services/data/...: the session, the org's allocation, then
// the resource, all under the org's data lock so that requests are
// transactions one after another.
func (s *Server) dataAPI(w http.ResponseWriter, r *http.Request) {
	a, ok := s.session(r)
	if !ok {
		sfError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	db := a.Grant.user.org.db
	if r.Method == http.MethodGet && queryPath.MatchString(r.URL.Path) {
		db.mu.Lock()
		db.queries++
		n, hook := db.queries, db.beforeQuery
		db.mu.Unlock()
		if hook != nil {
			hook(n)
		}
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.actor = a.Grant.user.ID
	defer func() { db.actor = HandUser }()
	if db.apiUsed >= db.apiLimit {
		// The refused call is not counted (assumed); the body is the one
		// observed in public reports.
		w.Header().Set(LimitHeader, db.usage())
		sfError(w, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
		return
	}
	db.apiUsed++
	w.Header().Set(LimitHeader, db.usage())
	body, err := io.ReadAll(io.LimitReader(r.Body, maxDataBody+1))
	if err != nil || len(body) > maxDataBody {
		sfError(w, http.StatusRequestEntityTooLarge, "REQUEST_ENTITY_TOO_LARGE", "The request body is too large")
		return
	}
	ans := db.top(r.Method, r.URL.EscapedPath(), r.URL.RawQuery, body)
	if ans.body == nil {
		w.WriteHeader(ans.status)
		return
	}
	writeJSON(w, ans.status, ans.body)
}

func (d *orgDB) usage() string {
	return "api-usage=" + strconv.Itoa(d.apiUsed) + "/" + strconv.Itoa(d.apiLimit)
}

// top runs a request made directly (not as a subrequest) in its own
// transaction.
func (d *orgDB) top(method, escapedPath, rawQuery string, body []byte) answer {
	m := versionPath.FindStringSubmatch(escapedPath)
	if m == nil {
		return notFound()
	}
	version, _ := strconv.Atoi(m[1])
	if m[2] == "composite" && method == http.MethodPost {
		return d.composite(version, body)
	}
	if method == http.MethodGet {
		return d.dispatch(d.data, version, method, m[2], rawQuery, body, false)
	}
	tx := d.data.clone()
	ans := d.dispatch(tx, version, method, m[2], rawQuery, body, false)
	if !ans.failed {
		d.data = tx
	}
	return ans
}

// dispatch runs one resource on the tables t. allOrNone is set inside an
// all-or-none Composite request, whose setting overrides a collection's.
func (d *orgDB) dispatch(t *tables, version int, method, escapedPath, rawQuery string, body []byte, allOrNone bool) answer {
	var seg []string
	for _, p := range strings.Split(strings.Trim(escapedPath, "/"), "/") {
		u, err := url.PathUnescape(p)
		if err != nil {
			return notFound()
		}
		seg = append(seg, u)
	}
	query, _ := url.ParseQuery(rawQuery)
	switch {
	case len(seg) >= 1 && (seg[0] == "query" || seg[0] == "queryAll") && method == http.MethodGet:
		if len(seg) == 2 && seg[1] != "" {
			return d.queryMore(version, seg[0], seg[1])
		}
		return d.query(t, version, query.Get("q"), seg[0] == "queryAll")
	case len(seg) >= 2 && seg[0] == "composite" && seg[1] == "sobjects":
		if version < 42 {
			return notFound()
		}
		return d.collections(t, version, method, seg[2:], query, body, allOrNone)
	case len(seg) >= 2 && seg[0] == "sobjects":
		return d.sobjects(t, version, method, seg[1:], body)
	}
	return notFound()
}

// decodeBody reads a JSON body with numbers kept exact.
func decodeBody(body []byte, v any) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return dec.Decode(v) == nil
}

// query answers Query, or QueryAll (all), which also returns the records
// in the recycle bin, IsDeleted true, for RecycleBinRetention after their
// deletion.
func (d *orgDB) query(t *tables, version int, q string, all bool) answer {
	if q == "" {
		return errAnswer(http.StatusBadRequest, "MALFORMED_QUERY", "A query string has to be specified")
	}
	sq, err := d.parseSOQL(q)
	if err != nil {
		return dmlAnswer(http.StatusBadRequest, err)
	}
	sq.all = all
	rows := sq.run(t, "v"+strconv.Itoa(version)+".0", d.now().Add(-RecycleBinRetention))
	resource := "query"
	if all {
		resource = "queryAll"
	}
	return d.page(version, resource, rows, len(rows), 0)
}

// page answers rows a batch at a time; the rows left wait under a query
// locator that nextRecordsUrl names ("01g...-2000").
func (d *orgDB) page(version int, resource string, rows []map[string]any, total, offset int) answer {
	body := map[string]any{"totalSize": total, "done": true, "records": rows}
	if len(rows) > queryBatch {
		d.cursorSeq++
		locator := "01g5g" + strconv.Itoa(1_000_000_000+d.cursorSeq) + "-" + strconv.Itoa(offset+queryBatch)
		d.cursors[locator] = rows[queryBatch:]
		d.cursorOrder = append(d.cursorOrder, locator)
		if len(d.cursorOrder) > maxCursors {
			delete(d.cursors, d.cursorOrder[0])
			d.cursorOrder = d.cursorOrder[1:]
		}
		body["records"], body["done"] = rows[:queryBatch], false
		body["nextRecordsUrl"] = "/services/data/v" + strconv.Itoa(version) + ".0/" + resource + "/" + locator
	}
	return answer{status: http.StatusOK, body: body}
}

// queryMore answers the next page of a query locator, once.
func (d *orgDB) queryMore(version int, resource, locator string) answer {
	rows, ok := d.cursors[locator]
	if !ok {
		return errAnswer(http.StatusBadRequest, "INVALID_QUERY_LOCATOR", "invalid query locator")
	}
	delete(d.cursors, locator)
	_, after, _ := strings.Cut(locator, "-")
	offset, _ := strconv.Atoi(after)
	return d.page(version, resource, rows, offset+len(rows), offset)
}

// sobjects serves /sobjects/{T}, /sobjects/{T}/{id} and
// /sobjects/{T}/{field}/{value}.
func (d *orgDB) sobjects(t *tables, version int, method string, seg []string, body []byte) answer {
	o := lookupObject(seg[0])
	if !d.visible(o) {
		return notFound()
	}
	var in map[string]any
	if method == http.MethodPost || method == http.MethodPatch {
		if !decodeBody(body, &in) || in == nil {
			return errAnswer(http.StatusBadRequest, "JSON_PARSER_ERROR", "The request body is not a JSON object")
		}
	}
	switch {
	case len(seg) == 1 && method == http.MethodGet:
		// Basic information (describe's summary) and recent items.
		return answer{status: http.StatusOK, body: map[string]any{
			"objectDescribe": map[string]any{"name": o.Name, "label": o.Label, "keyPrefix": o.Prefix, "queryable": true,
				"createable": o.Createable, "updateable": o.Updateable, "deletable": o.Deletable, "custom": false,
				"urls": map[string]string{"sobject": "/services/data/v" + strconv.Itoa(version) + ".0/sobjects/" + o.Name}},
			"recentItems": []any{}}}
	case len(seg) == 1 && method == http.MethodPost:
		id, err := d.insert(t, o, in)
		if err != nil {
			return dmlAnswer(http.StatusBadRequest, err)
		}
		return answer{status: http.StatusCreated, body: map[string]any{"id": id, "success": true, "errors": []any{}}}
	case len(seg) == 2 && seg[1] == "describe":
		if method != http.MethodGet {
			return errAnswer(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+method+"' not allowed. Allowed are GET,HEAD")
		}
		return d.describe(o, version)
	case len(seg) == 2:
		switch method {
		case http.MethodGet:
			r, err := d.find(t, o, seg[1])
			if err != nil {
				return notFound()
			}
			return answer{status: http.StatusOK, body: d.row(o, r, version)}
		case http.MethodPatch:
			if err := d.update(t, o, seg[1], in); err != nil {
				return dmlAnswer(statusOf(err), err)
			}
			return answer{status: http.StatusNoContent}
		case http.MethodDelete:
			if err := d.delete(t, o, seg[1]); err != nil {
				return dmlAnswer(statusOf(err), err)
			}
			return answer{status: http.StatusNoContent}
		}
	case len(seg) == 3:
		f := o.field(seg[1])
		if !d.has(f) || !f.ExtID {
			return errAnswer(http.StatusNotFound, "NOT_FOUND", "Provided external ID field does not exist or is not accessible: "+seg[1])
		}
		switch method {
		case http.MethodGet:
			matches := matching(t, o, f, seg[2])
			switch len(matches) {
			case 0:
				return notFound()
			case 1:
				return answer{status: http.StatusOK, body: d.row(o, matches[0], version)}
			}
			return multiple(o, matches, version)
		case http.MethodPatch:
			// Upsert by External ID: 201 created, 200 updated (API v46
			// and later answer a body on update), 300 for several matches.
			if _, given := in[f.Name]; given {
				return errAnswer(http.StatusBadRequest, "INVALID_FIELD", "The external ID field "+f.Name+" must not be in the body: the URL names its value")
			}
			in[f.Name] = seg[2]
			id, created, many, err := d.upsert(t, o, f, in)
			switch {
			case err != nil:
				return dmlAnswer(http.StatusBadRequest, err)
			case many != nil:
				return multiple(o, many, version)
			case created:
				return answer{status: http.StatusCreated, body: map[string]any{"id": id, "success": true, "errors": []any{}, "created": true}}
			}
			return answer{status: http.StatusOK, body: map[string]any{"id": id, "success": true, "errors": []any{}, "created": false}}
		}
	}
	return errAnswer(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "HTTP Method '"+method+"' not allowed.")
}

// statusOf is the status of a single-record error: 404 for a record that
// is not there.
func statusOf(e *dmlError) int {
	if e.Code == "ENTITY_IS_DELETED" || e.Code == "INVALID_CROSS_REFERENCE_KEY" || e.Code == "MALFORMED_ID" {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func multiple(o *object, rs []Record, version int) answer {
	var urls []string
	for _, r := range rs {
		urls = append(urls, "/services/data/v"+strconv.Itoa(version)+".0/sobjects/"+o.Name+"/"+r.String("Id"))
	}
	return answer{status: http.StatusMultipleChoices, body: urls, failed: true}
}

// row is a whole record as GET returns it.
func (d *orgDB) row(o *object, r Record, version int) map[string]any {
	out := map[string]any{"attributes": attributes(o.Name, r.String("Id"), "v"+strconv.Itoa(version)+".0")}
	for _, f := range d.fields(o) {
		if d.has(f) {
			out[f.Name] = jsonValue(r[f.Name])
		}
	}
	return out
}
