package testcrm

import (
	"context"
	"net/http"
	"net/url"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// The test CRM files documents on a deal: POST /api/deals/{id}/files (a
// multipart form, its part "file"), listed by GET /api/deals/{id}/files.

var _ crm.Archiver = (*Adapter)(nil)

// MaxFileSize is the largest file the test CRM takes (10 MB).
const MaxFileSize = 10 << 20

// ArchiveReady: filing needs the write scope sync needs.
func (a *Adapter) ArchiveReady(conn *qwoty.Connection) error { return syncer{a}.Ready(conn) }

// MaxFileSize implements crm.Archiver.
func (a *Adapter) MaxFileSize() int64 { return MaxFileSize }

type testFile struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// FindFile lists the deal's files and finds f by its name.
func (a *Adapter) FindFile(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	if err := b.Take(ctx, "calls", 1); err != nil {
		return "", err
	}
	var out struct {
		Files []testFile `json:"files"`
	}
	err := s.Call(ctx, func(ctx context.Context, token string) error {
		return crm.Call(ctx, crm.Request{Provider: Provider, Method: http.MethodGet, Base: s.Connection().InstanceURL,
			Path: "/api/deals/" + url.PathEscape(f.RecordID) + "/files", Token: token, Timeout: DefaultTimeout,
			HTTP: a.o.HTTP, Refused: apiErrors.Answer}, &out)
	})
	if err != nil {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	for _, x := range out.Files {
		if x.Name == f.Name {
			return x.ID, nil
		}
	}
	return "", nil
}

// Archive posts f to the deal's files.
func (a *Adapter) Archive(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	body, typ, err := crm.Multipart(crm.Part{Name: "file", FileName: f.Name, ContentType: f.ContentType, Data: f.Data})
	if err != nil {
		return "", err
	}
	if err := b.Take(ctx, "calls", 1); err != nil {
		return "", err
	}
	var out testFile
	err = s.Call(ctx, func(ctx context.Context, token string) error {
		return crm.Call(ctx, crm.Request{Provider: Provider, Method: http.MethodPost, Base: s.Connection().InstanceURL,
			Path: "/api/deals/" + url.PathEscape(f.RecordID) + "/files", Token: token, Body: body, BodyType: typ,
			Timeout: DefaultTimeout, HTTP: a.o.HTTP, Refused: apiErrors.Answer}, &out)
	})
	if err != nil {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	return out.ID, nil
}
