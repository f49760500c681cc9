package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qwoty/companion/qwoty"
)

// The files in the tree hold exactly what the catalogue says: a text edited
// in the Salesforce component, the HubSpot card or the troubleshooting table
// (or in the catalogue, without make generate) fails here, in make test-go,
// as well as in make check-generated.
func TestGeneratedFilesMatchTheCatalogue(t *testing.T) {
	for _, tg := range targets {
		t.Run(filepath.Base(tg.path), func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", tg.path))
			if err != nil {
				t.Fatal(err)
			}
			file := string(raw)
			want, err := splice(file, tg.render())
			if err != nil {
				t.Fatalf("%s: %v", tg.path, err)
			}
			if file != want {
				t.Errorf("%s differs from the error catalogue (qwoty/catalogue_texts.go) at:\n%s\nRun make generate, or change the text in the catalogue.",
					tg.path, firstDifference(file, want))
			}
		})
	}
}

// firstDifference shows the first line where got and want part, with the
// line the catalogue wants.
func firstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return "  line " + strconv.Itoa(i+1) + " is:   " + g[i] + "\n  the catalogue's: " + w[i]
		}
	}
	return "  the files differ in length"
}

// A card's hand-written part gives no catalogue code words of its own
// (an entry there would override or shadow the generated one).
func TestNoCodeOutsideTheGeneratedPart(t *testing.T) {
	for _, tg := range targets {
		if strings.HasSuffix(tg.path, ".md") {
			continue // the docs name codes everywhere, by design
		}
		raw, err := os.ReadFile(filepath.Join("..", "..", tg.path))
		if err != nil {
			t.Fatal(err)
		}
		outside, err := splice(string(raw), "")
		if err != nil {
			t.Fatalf("%s: %v", tg.path, err)
		}
		for _, e := range qwoty.Catalogue() {
			for _, line := range strings.Split(outside, "\n") {
				trimmed := strings.TrimSpace(line)
				if strings.HasPrefix(trimmed, string(e.Code)+":") || strings.HasPrefix(trimmed, "'"+string(e.Code)+"':") {
					t.Errorf("%s: %q gives %s its own words outside the generated part; put them in the catalogue", tg.path, trimmed, e.Code)
				}
			}
		}
	}
}

// Every text a card shows is in its generated table, so a card's words can
// only come from the catalogue.
func TestCardTablesHoldEveryCardText(t *testing.T) {
	for _, c := range []struct {
		card   qwoty.Card
		render func() string
	}{{qwoty.CardSalesforce, renderLWC}, {qwoty.CardHubSpot, renderHubSpot}} {
		out := c.render()
		n := 0
		for _, e := range qwoty.Catalogue() {
			ct, ok := e.CardTextFor(c.card)
			if !ok {
				continue
			}
			n++
			for _, s := range []string{string(e.Code) + ": {", jsString(ct.Title), jsString(ct.Fix)} {
				if !strings.Contains(out, s) {
					t.Errorf("%s table lacks %s", c.card, s)
				}
			}
		}
		if n < 9 {
			t.Errorf("%s shows %d codes, want the 9 or more it has always explained", c.card, n)
		}
	}
}

func TestSplice(t *testing.T) {
	file := "a\n<!-- " + beginMarker + " -->\nold\nlines\n<!-- " + endMarker + " -->\nz\n"
	got, err := splice(file, "new\n")
	if want := "a\n<!-- " + beginMarker + " -->\nnew\n<!-- " + endMarker + " -->\nz\n"; err != nil || got != want {
		t.Errorf("splice = %q, %v; want %q", got, err, want)
	}
	again, _ := splice(got, "new\n")
	if again != got {
		t.Errorf("splice is not idempotent: %q then %q", got, again)
	}
	for _, bad := range []string{"no markers\n", "// " + beginMarker + "\nno end\n",
		"// " + beginMarker + "\n// " + endMarker + "\n// " + beginMarker + "\n// " + endMarker + "\n"} {
		if _, err := splice(bad, "x\n"); err == nil {
			t.Errorf("splice(%q) = nil error, want one", bad)
		}
	}
}

// jsString quotes as prettier does, so npm run lint accepts the table.
func TestJSString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:         `'plain'`,
		`Qwoty's clock`: `"Qwoty's clock"`,
		`say "hi"`:      `'say "hi"'`,
		`it's 'y' "x"`:  `"it's 'y' \"x\""`,
		`it's "x"`:      `'it\'s "x"'`,
		`a\b`:           `'a\\b'`,
		"→ arrow":       `'→ arrow'`,
	} {
		if got := jsString(in); got != want {
			t.Errorf("jsString(%q) = %s, want %s", in, got, want)
		}
	}
}
