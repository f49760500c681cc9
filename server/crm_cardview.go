package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// cardView answers a CRM's signed card request posted with its record in
// the body (the Salesforce package's callout, contract v1) with the card's
// JSON. The CRM's adapter verifies it.
func (s *Server) cardView(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, ok := s.readSigned(c)
		if !ok {
			return
		}
		answer, err := s.cards.Card(c.Request.Context(), p, req)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(ctxConnectionID, answer.ConnectionID)
		s.writeJSON(c, http.StatusOK, answer)
	}
}

// cardPing answers a CRM's signed ping (QwotyPing's round trip): the same
// signature as its card requests, nothing to list.
func (s *Server) cardPing(p qwoty.Provider) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, ok := s.readSigned(c)
		if !ok {
			return
		}
		answer, err := s.cards.Ping(c.Request.Context(), p, req)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(ctxConnectionID, answer.ConnectionID)
		answer.RequestID = requestIDOf(c)
		s.writeJSON(c, http.StatusOK, answer)
	}
}

var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// jsonAppender is a value that writes its own JSON (the card answer).
type jsonAppender interface{ AppendJSON([]byte) []byte }

// writeJSON answers v as JSON in one write with its length, never cached:
// the answers of signed calls are for one caller, once.
func (s *Server) writeJSON(c *gin.Context, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer jsonBuffers.Put(buf)
	buf.Reset()
	if a, ok := v.(jsonAppender); ok {
		buf.Write(append(a.AppendJSON(buf.AvailableBuffer()), '\n'))
	} else {
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false) // an API answer, never inlined in HTML: keep URLs' & as is
		if err := enc.Encode(v); err != nil {
			s.fail(c, fmt.Errorf("server: encode answer: %w", err))
			return
		}
	}
	b := buf.Bytes()
	h := c.Writer.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	c.Writer.WriteHeader(status)
	_, _ = c.Writer.Write(b)
}

// readSigned reads a signed request's body, at most crm.MaxBodyBytes.
func (s *Server) readSigned(c *gin.Context) (crm.SignedRequest, bool) {
	tooLarge := qwoty.Errorf(qwoty.CodePayloadTooLarge, "The callout body is capped at 64 KiB; send less record data.",
		"the request body is over %d bytes", crm.MaxBodyBytes)
	if c.Request.ContentLength > crm.MaxBodyBytes {
		s.fail(c, tooLarge)
		return crm.SignedRequest{}, false
	}
	r := http.MaxBytesReader(c.Writer, c.Request.Body, crm.MaxBodyBytes)
	var body []byte
	var err error
	if n := c.Request.ContentLength; n >= 0 {
		body = make([]byte, n) // the usual case: one allocation of the right size
		_, err = io.ReadFull(r, body)
	} else {
		body, err = io.ReadAll(r)
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, tooLarge)
		} else {
			s.fail(c, qwoty.Errorf(qwoty.CodeBadRequest, "Send the whole body in one request.", "the request body could not be read"))
		}
		return crm.SignedRequest{}, false
	}
	// The signed path is the route's own (contract: no query, no mount prefix).
	return crm.SignedRequest{Method: c.Request.Method, Path: c.FullPath(), Header: c.Request.Header, Body: body}, true
}
