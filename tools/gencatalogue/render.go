package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/qwoty/companion/qwoty"
)

// The marker comments around a generated part: a line that holds
// beginMarker starts it, the next line that holds endMarker ends it, and
// both lines stay as they are, so a file says in its own comment syntax
// where its generated part is.
const (
	beginMarker = "BEGIN generated from the error catalogue"
	endMarker   = "END generated from the error catalogue"
)

// target is one file with a generated part, relative to the repository's root.
type target struct {
	path   string
	render func() string
}

var targets = []target{
	{"docs/troubleshooting.md", renderDoc},
	{"salesforce-package/force-app/main/default/lwc/qwotyCardView/cardMessages.js", renderLWC},
	{"hubspot-app/src/app/cards/card-model.ts", renderHubSpot},
}

// splice replaces the lines between file's markers with part, which ends
// with a newline.
func splice(file, part string) (string, error) {
	b := strings.Index(file, beginMarker)
	if b < 0 {
		return "", errors.New("no line holds " + strconv.Quote(beginMarker))
	}
	start := b + strings.IndexByte(file[b:], '\n') + 1
	if start <= b {
		return "", errors.New("nothing follows the begin marker")
	}
	e := strings.Index(file[start:], endMarker)
	if e < 0 {
		return "", errors.New("no line after the begin marker holds " + strconv.Quote(endMarker))
	}
	end := start + strings.LastIndexByte(file[start:start+e], '\n') + 1
	if strings.Contains(file[end+len(endMarker):], beginMarker) {
		return "", errors.New("more than one generated part")
	}
	return file[:start] + part + file[end:], nil
}

// renderDoc is the error-code table of docs/troubleshooting.md.
func renderDoc() string {
	var b strings.Builder
	b.WriteString("| code | status | who meets it | what it means | hint the server sends | fix |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, e := range qwoty.Catalogue() {
		status := "—"
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		}
		hint := `"` + e.Hint + `"`
		if e.OtherHints != "" {
			hint += " Particular cases: " + e.OtherHints
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | **%s.** %s | %s | %s |\n", e.Code, status, e.Who, e.Title, e.Cause, hint, e.Fix)
	}
	return b.String()
}

// renderLWC is SERVER_CODES of the Salesforce component's cardMessages.js,
// formatted as the package's prettier writes it (4 spaces, single quotes,
// no trailing commas), since `npm run lint` checks that formatting.
func renderLWC() string {
	var b strings.Builder
	b.WriteString("// Error codes of the signed callout contract (the server's error.code values).\n")
	b.WriteString("const SERVER_CODES = {\n")
	b.WriteString(jsEntries(qwoty.CardSalesforce, func(t qwoty.CardText) [][2]string {
		return [][2]string{{"title", t.Title}, {"fix", t.Fix}}
	}))
	b.WriteString("};\n")
	return b.String()
}

// renderHubSpot is SERVER_PROBLEMS of the HubSpot card's card-model.ts.
func renderHubSpot() string {
	var b strings.Builder
	b.WriteString("/** Qwoty's error codes that the card explains in its own words. */\n")
	b.WriteString("const SERVER_PROBLEMS: Record<string, ProblemText> = {\n")
	b.WriteString(jsEntries(qwoty.CardHubSpot, func(t qwoty.CardText) [][2]string {
		return [][2]string{{"title", t.Title}, {"message", t.Message}, {"fix", t.Fix}}
	}))
	b.WriteString("};\n")
	return b.String()
}

// jsEntries writes the object members of every code card explains, in the
// catalogue's order: `code: { field: 'text', ... }`, comma-separated.
func jsEntries(card qwoty.Card, fields func(qwoty.CardText) [][2]string) string {
	var entries []string
	for _, e := range qwoty.Catalogue() {
		t, ok := e.CardTextFor(card)
		if !ok {
			continue
		}
		var lines []string
		for _, f := range fields(t) {
			lines = append(lines, "        "+f[0]+": "+jsString(f[1]))
		}
		entries = append(entries, "    "+string(e.Code)+": {\n"+strings.Join(lines, ",\n")+"\n    }")
	}
	return strings.Join(entries, ",\n") + "\n"
}

// jsString quotes s as a JavaScript string the way prettier does with
// singleQuote: single quotes unless s holds more of them than double
// quotes, escaping only what must be.
func jsString(s string) string {
	q := byte('\'')
	if strings.Count(s, "'") > strings.Count(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}
