package qwoty

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Sending a quote to its customer: the rules of the send form, the same
// for the card (a rep sends from the CRM record) and the console (a user
// sends a quote made for a customer, docs/deals.md). docs/customer-page.md
// states the limits.

// Limits of a send.
const (
	MaxRecipients   = 20
	MaxSubjectChars = 200
	MaxMessageChars = 5000
	// maxTypedChars bounds the typed addresses' field.
	maxTypedChars = 4000
)

// SendForm is a send form as typed: the contacts ticked (each must be one
// of Known), the addresses typed (separated by commas, semicolons, line
// breaks or spaces), the subject and the message.
type SendForm struct {
	Ticked  []string
	Typed   string
	Subject string
	Message string
	// Known are the addresses that may be ticked (the deal's contacts).
	Known []string
}

// Send is a checked send: recipients lower-cased, without duplicates, at
// least one and at most MaxRecipients, each a valid address; the subject
// on one line, the message trimmed.
type Send struct {
	Recipients []string
	Subject    string
	Message    string
}

// CheckSend checks f whole; the error names the field at fault
// (CodeRecipientInvalid).
func CheckSend(f SendForm) (Send, error) {
	s := Send{Subject: strings.Join(strings.Fields(f.Subject), " "), Message: strings.TrimSpace(f.Message)}
	bad := func(field, msg, hint string) error {
		return &Error{Code: CodeRecipientInvalid, Message: msg, Hint: hint, Field: field}
	}
	if s.Subject == "" {
		return s, bad("subject", "The email needs a subject.", "Write a subject, then send.")
	}
	if utf8.RuneCountInString(s.Subject) > MaxSubjectChars {
		return s, bad("subject", "The subject is too long: 200 characters at most.", "Shorten the subject.")
	}
	if utf8.RuneCountInString(s.Message) > MaxMessageChars {
		return s, bad("message", "The message is too long: 5000 characters at most.", "Shorten the message.")
	}
	var err error
	s.Recipients, err = recipients(f)
	return s, err
}

// recipients reads f's ticked and typed addresses.
func recipients(f SendForm) ([]string, error) {
	bad := func(msg string) error {
		return &Error{Code: CodeRecipientInvalid, Message: msg,
			Hint: "Pick the deal's contacts or type addresses like name@example.com, separated by commas.", Field: "to"}
	}
	known := make(map[string]bool, len(f.Known))
	for _, k := range f.Known {
		known[strings.ToLower(k)] = true
	}
	seen := map[string]bool{}
	var out []string
	add := func(addr string) error {
		if len(out) >= MaxRecipients && !seen[addr] {
			return bad("Too many recipients: one send goes to 20 at most.")
		}
		if !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
		return nil
	}
	for _, t := range f.Ticked {
		e := strings.ToLower(strings.TrimSpace(t))
		if !known[e] {
			return nil, bad(quoteInput(t) + " is not a contact of this deal.")
		}
		if err := add(e); err != nil {
			return nil, err
		}
	}
	if utf8.RuneCountInString(f.Typed) > maxTypedChars {
		return nil, bad("Too many addresses typed: one send goes to 20 at most.")
	}
	for _, t := range splitAddresses(f.Typed) {
		a, err := mail.ParseAddress(t)
		if err != nil || !plausibleAddress(a.Address) {
			return nil, bad(quoteInput(t) + " is not a valid email address.")
		}
		if err := add(strings.ToLower(a.Address)); err != nil {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, bad("Choose at least one recipient.")
	}
	return out, nil
}

// splitAddresses splits a typed list at commas, semicolons and line
// breaks; an address with a display name ("Ann <ann@x.example>") stays
// whole.
func splitAddresses(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		if f = strings.TrimSpace(f); f != "" {
			if !strings.Contains(f, "<") && strings.ContainsFunc(f, unicode.IsSpace) {
				out = append(out, strings.Fields(f)...)
				continue
			}
			out = append(out, f)
		}
	}
	return out
}

// plausibleAddress refuses what mail.ParseAddress takes but no mailbox
// is: no dot in the domain, too long.
func plausibleAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && len(a) <= 254 && strings.Contains(a[at+1:], ".") && !strings.HasSuffix(a, ".")
}

// quoteInput quotes a bit of a user's input in a message, bounded.
func quoteInput(s string) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:79]) + "…"
	}
	return "“" + s + "”"
}

// DefaultSendMessage is a send form's message until its sender writes
// theirs; sender signs it when not "".
func DefaultSendMessage(number, sender string) string {
	m := "Hello,\n\nHere is our quote " + number + ". You can read it, download it as a PDF, and accept it online at the link below."
	if sender != "" {
		m += "\n\nBest regards,\n" + sender
	}
	return m
}
