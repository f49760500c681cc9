package quotepdf

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
)

// pageRE finds a page object of the PDF (not the page tree's /Pages).
var pageRE = regexp.MustCompile(`/Type /Page\b[^s]`)

// BenchmarkRender2000Lines renders a 2,000-line quote whose lines have a
// name and a two-line description, with a logo: the time per render (the
// target is under 2 s), the PDF's size and its pages.
func BenchmarkRender2000Lines(b *testing.B) {
	d := documentOf(sampleQuote(2000))
	d.Logo = logoPNG(b, 240, 80)
	for i := range d.Lines {
		d.Lines[i].Name = fmt.Sprintf("Ergonomic office chair, model %d — Эргономичное кресло", i+1)
		d.Lines[i].Description = "Adjustable lumbar support, 4D armrests, breathable mesh back; " +
			"delivered assembled. Ελληνικά: εγγύηση πέντε ετών."
	}
	var pdf []byte
	for b.Loop() {
		var buf bytes.Buffer
		if err := Render(&buf, d); err != nil {
			b.Fatal(err)
		}
		pdf = buf.Bytes()
	}
	b.ReportMetric(float64(len(pdf)), "bytes/pdf")
	b.ReportMetric(float64(len(pageRE.FindAll(pdf, -1))), "pages")
}
