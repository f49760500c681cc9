package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
)

// pdfText is a PDF's text as pdftotext reads it (layout kept). Without
// pdftotext the test is skipped, unless QWOTY_REQUIRE_PDFTOTEXT=1 (make
// test sets it).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	path, err := exec.LookPath("pdftotext")
	if err != nil {
		msg := "pdftotext is not installed: run make poppler"
		if os.Getenv("QWOTY_REQUIRE_PDFTOTEXT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	in := t.TempDir() + "/q.pdf"
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(path, "-layout", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// The PDF downloaded from the card and from the customer's page carries
// the same lines and totals as the API's JSON of the quote: a EUR quote
// for a customer with a Cyrillic name.
func TestPDFMatchesTheAPI(t *testing.T) {
	a := newApp(t, "", nil)
	conn, tok, base, editor := cyrillicQuote(t, a)
	sq := sendIt(t, a, conn, tok, base, editor, "buyer@romashka.example")

	key, _, err := a.db.CreateAPIKey(context.Background(), conn.WorkspaceID, conn.ID, "pdf test", []string{string(qwoty.ScopeQuotesRead)}, nil, "test")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, a.url()+"/api/v1/quotes/"+sq.id, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	r := do(t, req)
	var api struct {
		Number   string `json:"number"`
		Currency string `json:"currency"`
		Totals   struct{ Subtotal, Discount, Tax, Total string }
		Lines    []struct {
			SKU, Description, Quantity, UnitPrice, Net string
		}
	}
	if err := json.Unmarshal(r.body, &api); err != nil || r.status != 200 || len(api.Lines) != 2 || api.Currency != "EUR" {
		t.Fatalf("API quote: %d %s %v", r.status, r.body, err)
	}

	card := a.action(http.MethodGet, base+"/pdf", tok, nil)
	cust := a.get(sq.link+"/pdf", nil)
	for name, p := range map[string]response{"card": card, "customer": cust} {
		if p.status != 200 || p.header.Get("Content-Type") != "application/pdf" ||
			p.header.Get("Content-Disposition") != `attachment; filename="`+api.Number+`-r1.pdf"` {
			t.Fatalf("%s PDF: %d %v", name, p.status, p.header)
		}
		text := pdfText(t, p.body)
		if !strings.Contains(text, "ООО Ромашка") || !strings.Contains(text, api.Number) || !strings.Contains(text, "Acme") {
			t.Fatalf("%s PDF lacks the customer, number or workspace:\n%s", name, text)
		}
		for _, l := range api.Lines {
			// One row of the table: SKU, quantity, unit price, amount.
			row := regexp.MustCompile(regexp.QuoteMeta(l.SKU) + `\b.*\b` + regexp.QuoteMeta(l.Quantity) + `\b.*` + money(l.UnitPrice) + `.*` + money(l.Net))
			if !row.MatchString(text) || !strings.Contains(text, l.Description) {
				t.Fatalf("%s PDF lacks line %+v (%s):\n%s", name, l, row, text)
			}
		}
		for label, v := range map[string]string{"Subtotal": api.Totals.Subtotal, "Tax": api.Totals.Tax, "Total": api.Totals.Total} {
			if !regexp.MustCompile(`(?m)^.*` + label + `\b.*` + money(v) + `\s*$`).MatchString(text) {
				t.Fatalf("%s PDF: %s is not %s:\n%s", name, label, v, text)
			}
		}
		if !regexp.MustCompile(`Discount.*-.*` + money(api.Totals.Discount)).MatchString(text) {
			t.Fatalf("%s PDF: the discount is not %s:\n%s", name, api.Totals.Discount, text)
		}
	}
}

// money is an amount of the API ("1249.50") as a pattern of the PDF's
// writing of it, grouped or not ("1,249.50").
func money(v string) string {
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(v, "-"), ".")
	var grouped []string
	for len(intPart) > 3 {
		grouped = append([]string{intPart[len(intPart)-3:]}, grouped...)
		intPart = intPart[:len(intPart)-3]
	}
	grouped = append([]string{intPart}, grouped...)
	return strings.Join(grouped, `[,\x{a0}\x{202f} ]?`) + `\.` + frac
}
