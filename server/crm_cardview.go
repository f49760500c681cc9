package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/cardview"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
)

// salesforceCardView answers the package's signed callout (contract v1).
func (s *Server) salesforceCardView(c *gin.Context) {
	req, ok := s.readSigned(c)
	if !ok {
		return
	}
	answer, err := s.cards.Card(c.Request.Context(), cardview.Salesforce{}, req)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.SetConnectionID(c, answer.ConnectionID)
	web.WriteJSON(c, http.StatusOK, answer)
}

// salesforcePing answers QwotyPing's signed round trip: same signature,
// nothing to list.
func (s *Server) salesforcePing(c *gin.Context) {
	req, ok := s.readSigned(c)
	if !ok {
		return
	}
	answer, err := s.cards.SalesforcePing(c.Request.Context(), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	web.SetConnectionID(c, answer.ConnectionID)
	answer.RequestID = web.RequestID(c)
	web.WriteJSON(c, http.StatusOK, answer)
}

// readSigned reads a signed request's body, at most MaxBodyBytes.
func (s *Server) readSigned(c *gin.Context) (cardview.SignedRequest, bool) {
	tooLarge := qwoty.Errorf(qwoty.CodePayloadTooLarge, "The callout body is capped at 64 KiB; send less record data.",
		"the request body is over %d bytes", cardview.MaxBodyBytes)
	if c.Request.ContentLength > cardview.MaxBodyBytes {
		s.fail(c, tooLarge)
		return cardview.SignedRequest{}, false
	}
	r := http.MaxBytesReader(c.Writer, c.Request.Body, cardview.MaxBodyBytes)
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
		return cardview.SignedRequest{}, false
	}
	// The signed path is the route's own (contract: no query, no mount prefix).
	return cardview.SignedRequest{Method: c.Request.Method, Path: c.FullPath(), Header: c.Request.Header, Body: body}, true
}
