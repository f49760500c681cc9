package server

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// FuzzCardForm feeds any body to the card's form handling (the form read
// and checked, then a line and the terms parsed from it): it refuses with a
// client error the one way out knows (a *qwoty.Error, never a 5xx), or
// gives values the database can hold.
func FuzzCardForm(f *testing.F) {
	f.Add([]byte("version=3&sku=LIC&description=Licence&quantity=3&unit_price=19.99&discount_percent=10&title=Renewal&tax_rate=20"), false)
	f.Add([]byte("sku=A%00B&quantity=1&unit_price=1"), false)
	f.Add([]byte("sku=%FF&title=%E2%82&currency=%C3%A9ab"), false)
	f.Add([]byte("quantity=100000&unit_price=1000000000000&version=99999999999999999999"), false)
	f.Add([]byte("sku=%zz;x=1"), false)
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"sku\"\r\n\r\nA\x00\r\n--b--\r\n"), true)
	f.Add(bytes.Repeat([]byte("a"), web.MaxFormBytes+1), false)
	gin.SetMode(gin.ReleaseMode)
	f.Fuzz(func(t *testing.T, body []byte, multipart bool) {
		req := httptest.NewRequest(http.MethodPut, "/embed/api/quotes/q/terms?version=1", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if multipart {
			req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
		}
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = req
		check := func(step string, err error) bool {
			if err == nil {
				return true
			}
			var e *qwoty.Error
			if !errors.As(err, &e) || qwoty.HTTPStatus(e.Code) >= 500 || e.Message == "" || e.Hint == "" {
				t.Fatalf("%s: %#v; want a client error with a message and a hint", step, err)
			}
			return false
		}
		var read error
		web.FormInput(func(_ *gin.Context, err error) { read = err })(c)
		if !check("read", read) {
			return
		}
		_, err := qwoty.ParseVersion(c.Request.FormValue("version"))
		check("version", err)
		if l, err := formLine(c); check("line", err) {
			for _, s := range []string{l.SKU, l.Description} {
				if qwoty.CheckText("sku", s) != nil {
					t.Fatalf("line text the database cannot hold: %q", s)
				}
			}
		}
		if terms, err := formTerms(c); check("terms", err) {
			// As a quote takes them: a currency left out keeps the quote's.
			q := &qwoty.Quote{Status: qwoty.StatusDraft, Currency: "USD"}
			if check("terms", q.SetTerms(terms)) && (qwoty.CheckText("title", q.Title) != nil || !qwoty.ValidCurrency(q.Currency)) {
				t.Fatalf("terms the database cannot hold: %+v", terms)
			}
		}
	})
}
