package pipedrive

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Files on deals: the PDF of each sent version is uploaded with POST
// /api/v1/files ("Add file": a multipart form, its part "file" and the
// deal_id it is associated with), and shows in the deal's Files tab. A
// retry after a lost answer lists the deal's files (GET
// /api/v1/deals/{id}/files) and adopts the one of the same name. Both take
// their token cost of the daily budget and one request of the burst window,
// as every sync call.

var _ crm.Archiver = (*Adapter)(nil)

// Token costs of the file calls: "Add file" is 10 in the API reference;
// "List files attached to a deal" is assumed 20, as "Get all files".
const (
	costAddFile       = 10
	costListDealFiles = 20
)

// MaxFileSize is the largest file Qwoty uploads to Pipedrive: 25 MB, well
// under what Pipedrive takes.
const MaxFileSize = 25 << 20

// ArchiveReady: a file on a deal needs deals:full, which sync needs too.
func (a *Adapter) ArchiveReady(conn *qwoty.Connection) error { return a.Sync().Ready(conn) }

// MaxFileSize implements crm.Archiver.
func (a *Adapter) MaxFileSize() int64 { return MaxFileSize }

type pdFile struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func (a *Adapter) filer(s crm.Session, b crm.Budget) *pusher {
	return &pusher{y: a.Sync().(*Syncer), s: s, b: b}
}

// FindFile lists the deal's files, a page of 100 at a time (a short page
// is the last), for f's name.
func (a *Adapter) FindFile(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	p := a.filer(s, b)
	for start := 0; ; start += 100 {
		var page []pdFile
		err := p.do(ctx, request{method: http.MethodGet, path: "/api/v1/deals/" + url.PathEscape(f.RecordID) + "/files",
			query: url.Values{"start": {strconv.Itoa(start)}, "limit": {"100"}}, cost: costListDealFiles}, &page)
		if err != nil {
			return "", archiveError(err)
		}
		for _, x := range page {
			if x.Name == f.Name {
				return strconv.FormatInt(x.ID, 10), nil
			}
		}
		if len(page) < 100 {
			return "", nil
		}
	}
}

// Archive uploads f on its deal.
func (a *Adapter) Archive(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	body, typ, err := crm.Multipart(crm.Part{Name: "deal_id", Data: []byte(f.RecordID)},
		crm.Part{Name: "file", FileName: f.Name, ContentType: f.ContentType, Data: f.Data})
	if err != nil {
		return "", err
	}
	var out pdFile
	if err := a.filer(s, b).do(ctx, request{method: http.MethodPost, path: "/api/v1/files", raw: body, rawType: typ, cost: costAddFile}, &out); err != nil {
		return "", archiveError(err)
	}
	return strconv.FormatInt(out.ID, 10), nil
}

// archiveError classifies a file call's error: the push's classes (a 429
// is already a wait, the connection blocked), and a deal gone (404) or a
// file refused (413) permanent too.
func archiveError(err error) error {
	switch status(err) {
	case http.StatusNotFound, http.StatusRequestEntityTooLarge:
		return crm.Rejected(err)
	}
	return classify(err)
}
