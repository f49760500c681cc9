package pdtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"

	"github.com/shopspring/decimal"
)

// The API v2 validates request bodies against its schema and answers 400
// with the first violation. v2's migration guide promises strict types
// ("strict booleans", numbers as numbers); the messages' wording, which
// reads like a JSON-schema validator's ("body/item_price must be number",
// as a Pipedrive answer quoted in pipedrive/client-php issue 178 shows), is
// assumed for the other rules.

// maxBody bounds a request body the emulator reads.
const maxBody = 1 << 20

// object reads the request's body as a JSON object, or answers the 400.
func object(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, bool) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	var obj map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(b, &obj)
	}
	if err != nil || obj == nil {
		apiError(w, http.StatusBadRequest, "body must be object")
		return nil, false
	}
	return obj, true
}

// checker collects the first violation of a body's schema; path names the
// object checked ("body", "body/data/0").
type checker struct {
	path string
	err  string
}

func (c *checker) fail(format string, args ...any) {
	if c.err == "" {
		c.err = fmt.Sprintf(format, args...)
	}
}

// get returns a field's value; a missing required field is a violation.
func (c *checker) get(obj map[string]json.RawMessage, name string, required bool) (json.RawMessage, bool) {
	v, ok := obj[name]
	if !ok {
		if required {
			c.fail("%s must have required property '%s'", c.path, name)
		}
		return nil, false
	}
	return v, true
}

func (c *checker) number(obj map[string]json.RawMessage, name string, required bool) (decimal.Decimal, bool) {
	v, ok := c.get(obj, name, required)
	if !ok {
		return decimal.Zero, false
	}
	t := bytes.TrimSpace(v)
	if len(t) == 0 || (t[0] != '-' && (t[0] < '0' || t[0] > '9')) {
		c.fail("%s/%s must be number", c.path, name)
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(string(t))
	if err != nil {
		c.fail("%s/%s must be number", c.path, name)
		return decimal.Zero, false
	}
	return d, true
}

func (c *checker) integer(obj map[string]json.RawMessage, name string, required bool) (int64, bool) {
	v, ok := c.get(obj, name, required)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64)
	if err != nil {
		c.fail("%s/%s must be integer", c.path, name)
		return 0, false
	}
	return n, true
}

func (c *checker) text(obj map[string]json.RawMessage, name string, required bool) (string, bool) {
	v, ok := c.get(obj, name, required)
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		c.fail("%s/%s must be string", c.path, name)
		return "", false
	}
	return s, true
}

func (c *checker) boolean(obj map[string]json.RawMessage, name string) (bool, bool) {
	v, ok := c.get(obj, name, false)
	if !ok {
		return false, false
	}
	switch string(bytes.TrimSpace(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	c.fail("%s/%s must be boolean", c.path, name)
	return false, false
}

func (c *checker) oneOf(obj map[string]json.RawMessage, name string, allowed ...string) (string, bool) {
	s, ok := c.text(obj, name, false)
	if ok && !slices.Contains(allowed, s) {
		c.fail("%s/%s must be equal to one of the allowed values", c.path, name)
		return "", false
	}
	return s, ok
}

// refused answers the first violation, if any.
func (c *checker) refused(w http.ResponseWriter) bool {
	if c.err == "" {
		return false
	}
	apiError(w, http.StatusBadRequest, c.err)
	return true
}

// successCreated writes the success envelope with 201, as v2's creations
// answer ("201 - Add many products to a deal").
func successCreated(w http.ResponseWriter, data any) {
	writeJSON(w, http.StatusCreated, map[string]any{"success": true, "data": data, "additional_data": nil})
}

// number writes a decimal as a JSON number, exactly.
func number(d decimal.Decimal) json.Number { return json.Number(d.String()) }
