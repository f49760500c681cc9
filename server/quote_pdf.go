package server

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qwoty/companion/quotepdf"
	"github.com/qwoty/companion/qwoty"
)

// pdfSlots bounds how many PDFs the instance renders at once: a 2,000-line
// quote takes about a second of a core, and the customer's route is open
// to anyone with a link.
var pdfSlots = make(chan struct{}, 2)

// pdfFileName is the download's file name: the quote's number and its
// revision, in characters every file system takes.
func pdfFileName(q *qwoty.Quote) string {
	name := strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, q.Number)
	return name + "-r" + strconv.Itoa(q.Revision) + ".pdf"
}

// writePDF renders quote q of workspaceID and answers it as an attachment;
// fail answers an error in the caller's shape.
func (s *Server) writePDF(c *gin.Context, workspaceID string, q *qwoty.Quote, fail func(*gin.Context, error)) {
	ctx := c.Request.Context()
	name, err := s.db.WorkspaceName(ctx, workspaceID)
	if err != nil {
		fail(c, err)
		return
	}
	logo, _, err := s.db.WorkspaceLogo(ctx, workspaceID)
	if err != nil {
		fail(c, err)
		return
	}
	if err := acquirePDF(ctx); err != nil {
		fail(c, qwoty.Errorf(qwoty.CodeRateLimited, "Try the download again in a minute.", "Too many PDFs are being made right now."))
		return
	}
	var buf bytes.Buffer
	err = quotepdf.Render(&buf, quotepdf.FromQuote(name, logo, q))
	<-pdfSlots
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="`+pdfFileName(q)+`"`)
	c.Header("Cache-Control", "private, no-store")
	c.Data(http.StatusOK, "application/pdf", buf.Bytes())
}

// acquirePDF waits up to 10 s for a rendering slot.
func acquirePDF(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	select {
	case pdfSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
