package server

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/metrics"
	"github.com/qwoty/companion/qwoty"
	"github.com/qwoty/companion/web"
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
		web.SetConnectionID(c, answer.ConnectionID)
		began := time.Now()
		web.WriteJSON(c, http.StatusOK, answer)
		metrics.CardStageTook("callout", metrics.StageRender, time.Since(began))
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
		web.SetConnectionID(c, answer.ConnectionID)
		answer.RequestID = web.RequestID(c)
		web.WriteJSON(c, http.StatusOK, answer)
	}
}

// errBodyTooLarge refuses a signed request's body over crm.MaxBodyBytes;
// made once, not on every callout.
var errBodyTooLarge = qwoty.Errorf(qwoty.CodePayloadTooLarge, "The callout body is capped at 64 KiB; send less record data.",
	"the request body is over %d bytes", crm.MaxBodyBytes)

// readSigned reads a signed request's body, at most crm.MaxBodyBytes.
func (s *Server) readSigned(c *gin.Context) (crm.SignedRequest, bool) {
	if c.Request.ContentLength > crm.MaxBodyBytes {
		s.fail(c, errBodyTooLarge)
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
			s.fail(c, errBodyTooLarge)
		} else {
			s.fail(c, qwoty.Errorf(qwoty.CodeBadRequest, "Send the whole body in one request.", "the request body could not be read"))
		}
		return crm.SignedRequest{}, false
	}
	// The signed path is the route's own (contract: no query, no mount prefix).
	return crm.SignedRequest{Method: c.Request.Method, Path: c.FullPath(), Header: c.Request.Header, Body: body}, true
}
