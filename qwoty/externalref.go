package qwoty

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// An external reference links a Qwoty record (a quote, a customer, a
// contact, a catalogue item) to the same thing in another system, in the
// form system:type:id ("erp:order:SO-10045", "stripe:customer:cus_N1x"):
// an integration sets it on what it creates and finds the record by it
// later. Qwoty only checks its form; it never follows it.

const (
	// MaxExternalRefLen is the longest external reference, in bytes.
	MaxExternalRefLen = 255
	// maxRefNameLen is the longest system or type part.
	maxRefNameLen = 32
)

const externalRefHint = "Write it as system:type:id: system and type in lower-case letters, digits, '_', '-' or '.', " +
	"up to 32 characters each; an id of visible characters (up to 255 in all), e.g. erp:order:SO-10045."

// ParseExternalRef checks an external reference; "" (none, or clearing
// one) is valid. The id part may hold further colons.
func ParseExternalRef(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	bad := func(why string) error {
		return &Error{Code: CodeValidation, Field: "externalRef", Message: "externalRef " + echo(s) + " is not valid: " + why,
			Hint: externalRefHint}
	}
	if len(s) > MaxExternalRefLen {
		return "", bad("it is longer than 255 bytes")
	}
	if !utf8.ValidString(s) {
		return "", bad("it is not UTF-8")
	}
	system, rest, ok1 := strings.Cut(s, ":")
	typ, id, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return "", bad("it needs three parts, system:type:id")
	}
	for _, part := range []struct{ name, v string }{{"system", system}, {"type", typ}} {
		if part.v == "" || len(part.v) > maxRefNameLen {
			return "", bad("its " + part.name + " must be 1 to 32 characters")
		}
		for _, r := range part.v {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
				return "", bad("its " + part.name + " may hold only a-z, 0-9, '_', '-' and '.'")
			}
		}
	}
	if id == "" {
		return "", bad("its id is empty")
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return "", bad("its id holds a space or an invisible character")
		}
	}
	return s, nil
}
