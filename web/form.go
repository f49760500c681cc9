package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/qwoty"
)

// MaxFormBytes caps the body of a form, the card's and the console's: a
// quote form is a few hundred bytes, its longest field (a description) 4 KB
// at most in UTF-8; nothing of ours sends more.
const MaxFormBytes = 64 << 10

// FormInput reads a request's form once, before its handler: the body
// capped at MaxFormBytes (413 past it, whatever Content-Length said), a
// form that does not parse refused (400), and every value, of the query and
// the body, checked as text the database can hold (422 naming the field).
// Handlers then read c.Request.Form as they like. fail is the surface's way
// out.
func FormInput(fail func(*gin.Context, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := readForm(c); err != nil {
			fail(c, err)
			c.Abort()
			return
		}
		c.Next()
	}
}

// errFormTooLarge answers a form body past MaxFormBytes.
var errFormTooLarge = qwoty.Errorf(qwoty.CodePayloadTooLarge, "Forms are capped at 64 KiB: send less text (a description holds 1000 characters).",
	"the form is larger than %d bytes", MaxFormBytes)

func readForm(c *gin.Context) error {
	r := c.Request
	if r.ContentLength > MaxFormBytes {
		return errFormTooLarge
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(c.Writer, r.Body, MaxFormBytes)
	}
	// ParseForm first: ParseMultipartForm would drop its error for a body
	// that is not multipart.
	err := r.ParseForm()
	if err == nil {
		if err = r.ParseMultipartForm(MaxFormBytes); errors.Is(err, http.ErrNotMultipart) {
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
