package crm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/qwoty/companion/qwoty"
)

// Archiver files a document on a CRM record: the PDF of each version of a
// quote that is sent, on its deal (Salesforce: a file linked to the
// Opportunity; HubSpot: a file attached to the deal through a note;
// Pipedrive: a file on the deal). An Adapter whose CRM can hold files
// implements it beside its Syncer, whose Buckets it spends: the archive job
// (package crmsync) takes from the same connection budget as the pushes.
//
// Its errors are classified as a Push's outcomes (Outcome.Err): a
// *WaitError (a limit: try later, no retry used; a 429 also blocks the
// connection's budget), ErrRejected, ErrForbidden or ErrNotFound
// (permanent: the record is gone, the file refused, a scope missing), a
// coded qwoty.Error (the connection itself), anything else transient.
type Archiver interface {
	// ArchiveReady says whether conn may file documents: nil, or an error
	// coded sync_reconnect when the connection was made before filing
	// needed a scope it lacks.
	ArchiveReady(conn *qwoty.Connection) error
	// MaxFileSize is the largest file Archive sends, in bytes: the CRM's
	// own limit for the way the adapter uploads, less a margin.
	MaxFileSize() int64
	// FindFile looks on f.RecordID for the file f, filed by an earlier
	// attempt whose answer was lost (a crash, a dropped connection), by
	// its name; it returns the CRM's id of the file, "" when there is
	// none. It takes from b before each call.
	FindFile(ctx context.Context, s Session, b Budget, f File) (string, error)
	// Archive uploads f and attaches it to f.RecordID, taking from b
	// before each call, and returns the CRM's id of the file. The caller
	// has checked the size (MaxFileSize) and, after a lost answer,
	// FindFile: Archive creates.
	Archive(ctx context.Context, s Session, b Budget, f File) (string, error)
}

// File is a document to file on a CRM record.
type File struct {
	// RecordID is the CRM record (Opportunity, deal) it goes on.
	RecordID string
	// Name is its file name, with its extension ("Q-00042 v2.pdf"),
	// unique on the record: FindFile finds it again by it.
	Name        string
	ContentType string
	Data        []byte
	// Title is what the CRM shows when it shows a title apart from the
	// name (Salesforce's Title, without the extension).
	Title string
}

// ArchiveObject is the sync log's object of a filed document.
const ArchiveObject = "file"

// Part is one part of a multipart/form-data body: a field (Data without a
// FileName), or a file.
type Part struct {
	Name        string
	FileName    string
	ContentType string
	Data        []byte
}

// Multipart encodes parts as a multipart/form-data body (RFC 7578), and
// returns it with its content type (the boundary in it), for Request's
// Body and BodyType.
func Multipart(parts ...Part) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name="%s"`, quoteParam(p.Name))
		if p.FileName != "" {
			disp += fmt.Sprintf(`; filename="%s"`, quoteParam(p.FileName))
		}
		h.Set("Content-Disposition", disp)
		if p.ContentType != "" {
			h.Set("Content-Type", p.ContentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			return nil, "", err
		}
		if _, err := pw.Write(p.Data); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// quoteParam escapes a Content-Disposition parameter's value as
// mime/multipart does.
func quoteParam(s string) string {
	return strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "").Replace(s)
}

// ClassifyArchive turns a file call's error into the Archiver's classes,
// the way the Syncers classify a push: a 429 (ErrRateLimited) blocks the
// connection's budget for its Retry-After (at least a second) and is a
// *WaitError; 400, 404, 409, 413, 415 and 422 are rejections (the CRM's
// own words); 403 and 404 keep their sentinels; anything else is left as it is
// (transient, or coded).
func ClassifyArchive(ctx context.Context, b Budget, err error) error {
	var ae *APIError
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	switch {
	case errors.Is(err, ErrRateLimited):
		until := time.Now().Add(max(ae.RetryAfter, time.Second))
		if berr := b.Block(ctx, until); berr != nil {
			return berr
		}
		return &WaitError{Until: until, Reason: ae.Error()}
	case errors.Is(err, ErrForbidden), errors.Is(err, ErrNotFound), errors.Is(err, ErrRejected):
		return err
	}
	switch ae.Status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge,
		http.StatusUnsupportedMediaType, http.StatusUnprocessableEntity:
		return Rejected(err)
	}
	return err
}
