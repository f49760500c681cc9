package devmail

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one message the mailbox received: its envelope (who the
// client said it is from and to), its headers as sent, and its text.
type Message struct {
	ID       int
	Received time.Time
	// EnvelopeFrom and EnvelopeTo are SMTP's MAIL FROM and RCPT TO: who
	// the message was actually delivered to.
	EnvelopeFrom string
	EnvelopeTo   []string
	// TLS says the client used TLS; User is the name it authenticated
	// with ("" without AUTH).
	TLS  bool
	User string

	// From, To, Subject and Date are the headers, decoded.
	From, To, Subject, Date string
	// Header is every header as received.
	Header mail.Header
	// Text and HTML are the first text/plain and text/html parts,
	// decoded from their transfer encoding.
	Text, HTML string
	// Raw is the message as received.
	Raw []byte
}

// maxDepth bounds the nesting of multipart bodies followed.
const maxDepth = 4

// parse reads what the development pages show. A message it cannot read
// is still kept, with its raw text: the point is to see what was sent.
func parse(raw []byte) *Message {
	m := &Message{Raw: raw}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		m.Text = "(unreadable message: " + err.Error() + ")"
		return m
	}
	m.Header = msg.Header
	var dec mime.WordDecoder
	decode := func(name string) string {
		v := msg.Header.Get(name)
		if d, err := dec.DecodeHeader(v); err == nil {
			return d
		}
		return v
	}
	m.From, m.To, m.Subject, m.Date = decode("From"), decode("To"), decode("Subject"), msg.Header.Get("Date")
	walk(m, textproto.MIMEHeader(msg.Header), msg.Body, 0)
	return m
}

// walk finds the first text/plain and text/html parts of a body.
func walk(m *Message, h textproto.MIMEHeader, body io.Reader, depth int) {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return
	}
	switch {
	case strings.HasPrefix(mediaType, "multipart/") && depth < maxDepth:
		mr := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart: the transfer encoding is undone below, the
			// same way for every part.
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walk(m, p.Header, p, depth+1)
		}
	case mediaType == "text/plain" && m.Text == "":
		m.Text = decodeBody(h, body)
	case mediaType == "text/html" && m.HTML == "":
		m.HTML = decodeBody(h, body)
	}
}

// decodeBody undoes a part's Content-Transfer-Encoding. Alert email is
// UTF-8; another charset shows as its bytes.
func decodeBody(h textproto.MIMEHeader, body io.Reader) string {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body) // skips line breaks
	}
	b, err := io.ReadAll(body)
	if err != nil && len(b) == 0 {
		return "(undecodable part: " + err.Error() + ")"
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}
