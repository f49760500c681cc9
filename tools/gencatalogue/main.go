// Command gencatalogue writes the tables that come from the error catalogue
// (qwoty/catalogue_texts.go) into the files that show them: the error-code
// table of docs/troubleshooting.md, the Salesforce component's message table
// (cardMessages.js) and the HubSpot card's (card-model.ts). Each file keeps
// its hand-written rest; only the lines between its two marker comments are
// replaced. `make generate` runs it from the repository's root; `make
// check-generated` and this package's test fail while a file is stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	root := flag.String("root", ".", "the repository's root")
	flag.Parse()
	for _, t := range targets {
		path := filepath.Join(*root, t.path)
		old, err := os.ReadFile(path)
		if err != nil {
			fail(err)
		}
		fresh, err := splice(string(old), t.render())
		if err != nil {
			fail(fmt.Errorf("%s: %w", t.path, err))
		}
		if fresh == string(old) {
			continue
		}
		if err := os.WriteFile(path, []byte(fresh), 0o644); err != nil {
			fail(err)
		}
		fmt.Println("gencatalogue: wrote", t.path)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gencatalogue:", err)
	os.Exit(1)
}
