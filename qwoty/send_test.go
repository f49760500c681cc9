package qwoty

import (
	"fmt"
	"strings"
	"testing"
)

// The send form's rules, shared by the card and the console.
func TestCheckSend(t *testing.T) {
	ok := SendForm{Subject: "  Your   quote ", Message: " Hello \n", Known: []string{"Ann@Acme.example"}}
	for _, c := range []struct {
		name   string
		edit   func(f *SendForm)
		want   []string
		field  string
		reason string
	}{
		{"a contact ticked, in any case", func(f *SendForm) { f.Ticked = []string{"ann@acme.EXAMPLE"} }, []string{"ann@acme.example"}, "", ""},
		{"typed with a display name, duplicates once", func(f *SendForm) {
			f.Ticked = []string{"ann@acme.example"}
			f.Typed = "Bob <Bob@Acme.example>; ann@acme.example,\ncfo@acme.example carl@acme.example"
		}, []string{"ann@acme.example", "bob@acme.example", "cfo@acme.example", "carl@acme.example"}, "", ""},
		{"a ticked address that is no contact", func(f *SendForm) { f.Ticked = []string{"eve@evil.example"} }, nil, "to", "is not a contact"},
		{"no recipient", func(f *SendForm) {}, nil, "to", "at least one"},
		{"no dot in the domain", func(f *SendForm) { f.Typed = "ann@localhost" }, nil, "to", "not a valid email address"},
		{"21 recipients", func(f *SendForm) {
			var a []string
			for i := range 21 {
				a = append(a, fmt.Sprintf("p%d@acme.example", i))
			}
			f.Typed = strings.Join(a, ",")
		}, nil, "to", "20 at most"},
		{"20 recipients", func(f *SendForm) {
			var a []string
			for i := range 20 {
				a = append(a, fmt.Sprintf("p%d@acme.example", i))
			}
			f.Typed = strings.Join(a, ",")
		}, nil, "", ""},
		{"no subject", func(f *SendForm) { f.Typed, f.Subject = "ann@acme.example", " \n " }, nil, "subject", "needs a subject"},
		{"a long subject", func(f *SendForm) { f.Typed, f.Subject = "ann@acme.example", strings.Repeat("é", 201) }, nil, "subject", "too long"},
		{"a long message", func(f *SendForm) { f.Typed, f.Message = "ann@acme.example", strings.Repeat("x", 5001) }, nil, "message", "too long"},
		{"too much typed", func(f *SendForm) { f.Typed = strings.Repeat("a", 4001) }, nil, "to", "Too many addresses"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := ok
			c.edit(&f)
			s, err := CheckSend(f)
			if c.field != "" {
				e := AsError(err)
				if e == nil || e.Code != CodeRecipientInvalid || e.Field != c.field || !strings.Contains(e.Message, c.reason) {
					t.Fatalf("CheckSend: %v, want %s on %s saying %q", err, CodeRecipientInvalid, c.field, c.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Subject != "Your quote" || s.Message != "Hello" {
				t.Fatalf("subject %q, message %q", s.Subject, s.Message)
			}
			if c.want != nil && strings.Join(s.Recipients, " ") != strings.Join(c.want, " ") {
				t.Fatalf("recipients %v, want %v", s.Recipients, c.want)
			}
		})
	}
}
