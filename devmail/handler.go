package devmail

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Handler serves the mailbox's pages under prefix (such as "/dev/mail"):
// prefix and prefix+"/" list the messages, newest first; prefix+"/{id}"
// shows one. The pages are self-contained HTML with every value escaped,
// and carry their own Content-Security-Policy (their one style block, by
// hash; nothing else loads).
func (mb *Mailbox) Handler(prefix string) http.Handler {
	prefix = strings.TrimRight(prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", pagePolicy)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		switch rest = strings.TrimPrefix(rest, "/"); {
		case rest == "":
			msgs := mb.Messages()
			rows := make([]listRow, len(msgs))
			for i, m := range msgs {
				rows[i] = listRow{Message: m, Link: prefix + "/" + strconv.Itoa(m.ID), Snippet: snippet(m.Text, 160)}
			}
			render(w, listPage, map[string]any{"Rows": rows, "Addr": mb.Addr(), "Max": mb.opts.MaxMessages})
		default:
			id, err := strconv.Atoi(rest)
			m, found := mb.Message(id)
			if err != nil || !found {
				h.Del("Content-Type")
				http.Error(w, "no such message (the mailbox keeps the last "+strconv.Itoa(mb.opts.MaxMessages)+")", http.StatusNotFound)
				return
			}
			render(w, messagePage, map[string]any{"M": m, "Back": prefix + "/"})
		}
	})
}

type listRow struct {
	Message
	Link    string
	Snippet string
}

// snippet is the start of a text on one line.
func snippet(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func render(w http.ResponseWriter, t *template.Template, data any) {
	if err := t.Execute(w, data); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
	}
}

// pageStyle is the pages' only style; the policy allows it by its hash.
const pageStyle = `body{font:14px/1.45 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:.35em .6em;border-bottom:1px solid #ddd}
th{background:#f4f4f4}pre{white-space:pre-wrap;background:#f8f8f8;padding:.8em;border:1px solid #e4e4e4}
.muted{color:#666}dt{font-weight:600}dd{margin:0 0 .4em 0}`

var pagePolicy = func() string {
	sum := sha256.Sum256([]byte(pageStyle))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

const pageHead = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>{{block "title" .}}{{end}}</title><style>` + pageStyle + `</style></head><body>`

var listPage = template.Must(template.New("list").Parse(pageHead + `{{define "title"}}Development mailbox{{end}}
<h1>Development mailbox</h1>
<p class="muted">Mail this development server sent to SMTP {{.Addr}}: nothing here was delivered to anyone. The last {{.Max}} messages, newest first; they are gone when the server stops.</p>
{{if .Rows}}<table id="messages"><thead><tr><th>Received</th><th>From</th><th>To</th><th>Subject</th><th>Text</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.Received.Format "2006-01-02 15:04:05"}}</td><td>{{if .From}}{{.From}}{{else}}{{.EnvelopeFrom}}{{end}}</td>
<td>{{range $i, $to := .EnvelopeTo}}{{if $i}}, {{end}}{{$to}}{{end}}</td>
<td><a href="{{.Link}}">{{if .Subject}}{{.Subject}}{{else}}(no subject){{end}}</a></td><td class="muted">{{.Snippet}}</td></tr>
{{end}}</tbody></table>{{else}}<p id="empty">No mail yet.</p>{{end}}
</body></html>`))

var messagePage = template.Must(template.New("message").Parse(pageHead + `{{define "title"}}{{.M.Subject}} · Development mailbox{{end}}
<p><a href="{{.Back}}">← All mail</a></p>
<h1>{{if .M.Subject}}{{.M.Subject}}{{else}}(no subject){{end}}</h1>
<dl>
<dt>Received</dt><dd>{{.M.Received.Format "2006-01-02 15:04:05 MST"}}{{if .M.TLS}} · over TLS{{end}}{{if .M.User}} · authenticated as {{.M.User}}{{end}}</dd>
<dt>From</dt><dd>{{.M.From}} <span class="muted">(envelope {{.M.EnvelopeFrom}})</span></dd>
<dt>To</dt><dd>{{.M.To}} <span class="muted">(delivered to {{range $i, $to := .M.EnvelopeTo}}{{if $i}}, {{end}}{{$to}}{{end}})</span></dd>
<dt>Date</dt><dd>{{.M.Date}}</dd>
</dl>
<h2>Text</h2>
<pre id="text">{{.M.Text}}</pre>
{{if .M.HTML}}<details><summary>HTML part (source)</summary><pre id="html">{{.M.HTML}}</pre></details>{{end}}
<details><summary>Raw message</summary><pre id="raw">{{printf "%s" .M.Raw}}</pre></details>
</body></html>`))
