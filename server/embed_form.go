package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
)

// The card's forms, parsed and validated here so handlers stay thin.

// maxFormBytes caps the body of a form, the card's and the console's: a
// quote form is a few hundred bytes, its longest field (a description) 4 KB
// at most in UTF-8; nothing of ours sends more.
const maxFormBytes = 64 << 10

// formInput reads a request's form once, before its handler: the body capped
// at maxFormBytes (413 past it, whatever Content-Length said), a form that
// does not parse refused (400), and every value, of the query and the body,
// checked as text the database can hold (422 naming the field). Handlers
// then read c.Request.Form as they like. fail is the surface's way out.
func formInput(fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := readForm(c); err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		c.Next()
	}
}

// errFormTooLarge answers a form body past maxFormBytes.
var errFormTooLarge = qwoty.Errorf(qwoty.CodePayloadTooLarge, "Forms are capped at 64 KiB: send less text (a description holds 1000 characters).",
	"the form is larger than %d bytes", maxFormBytes)

func readForm(c *gin.Context) error {
	r := c.Request
	if r.ContentLength > maxFormBytes {
		return errFormTooLarge
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, maxFormBytes)
	}
	// ParseForm first: ParseMultipartForm would drop its error for a body
	// that is not multipart.
	err := r.ParseForm()
	if err == nil {
		if err = r.ParseMultipartForm(maxFormBytes); errors.Is(err, http.ErrNotMultipart) {
			err = nil
		}
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errFormTooLarge
		}
		return &qwoty.Error{Code: qwoty.CodeBadRequest, Message: "the form could not be read: " + formProblem(err),
			Hint: "Send the form URL-encoded, as a browser does.", Err: err}
	}
	keys := make([]string, 0, len(r.Form))
	for k := range r.Form {
		keys = append(keys, k)
	}
	slices.Sort(keys) // the same field is named whatever the map's order
	for _, k := range keys {
		for _, v := range r.Form[k] {
			if err := qwoty.CheckText(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}

// formProblem is the parser's complaint, cut and made printable: it may
// quote what the client sent.
func formProblem(err error) string {
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	if r := []rune(s); len(r) > 100 {
		s = string(r[:100])
	}
	return s
}

func formLine(c *gin.Context) (qwoty.LineItem, error) {
	return qwoty.ParseLine(qwoty.LineInput{
		SKU:             c.Request.FormValue("sku"),
		Description:     c.Request.FormValue("description"),
		Quantity:        c.Request.FormValue("quantity"),
		UnitPrice:       c.Request.FormValue("unit_price"),
		DiscountPercent: c.Request.FormValue("discount_percent"),
	})
}

// formTerms reads a terms form; a currency left out is empty, which keeps
// the quote's (qwoty.Terms).
func formTerms(c *gin.Context) (qwoty.Terms, error) {
	var t qwoty.Terms
	var err error
	if t.Title, err = qwoty.ParseTitle(c.Request.FormValue("title")); err != nil {
		return t, err
	}
	if cur := c.Request.FormValue("currency"); strings.TrimSpace(cur) != "" {
		if t.Currency, err = qwoty.ParseCurrency(cur); err != nil {
			return t, err
		}
	}
	if t.TaxRate, err = qwoty.ParsePercent("tax_rate", c.Request.FormValue("tax_rate")); err != nil {
		return t, err
	}
	return t, nil
}
