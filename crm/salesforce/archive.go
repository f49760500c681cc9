package salesforce

import (
	"context"
	"net/http"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Files on opportunities: the PDF of each sent version is inserted as a
// ContentVersion (REST API, sObject Basic Information: POST
// /sobjects/ContentVersion) whose FirstPublishLocationId is the
// Opportunity, which shares the new file with it: it shows in the
// opportunity's Files related list. The body is JSON, VersionData in
// base64: a non-multipart request is "limited to 50 MB of text data or
// 37.5 MB of base64-encoded data" (REST API Developer Guide, "Insert or
// Update Blob Data"), so MaxFileSize keeps the base64 of a file under it;
// a larger file would need the multipart form (up to 2 GB for
// ContentVersion). A retry after a lost answer queries the opportunity's
// versions by Title and adopts the one it finds. Each call takes one unit
// of the org's daily API allocation, as every sync call.

var _ crm.Archiver = (*Adapter)(nil)

// MaxFileSize is the largest file Qwoty files in Salesforce: 25 MB, whose
// base64 (33.3 MB) stays under the non-multipart limit of 37.5 MB.
const MaxFileSize = 25 << 20

// ArchiveReady: the api scope every connection has covers files.
func (a *Adapter) ArchiveReady(*qwoty.Connection) error { return nil }

// MaxFileSize implements crm.Archiver.
func (a *Adapter) MaxFileSize() int64 { return MaxFileSize }

// contentVersion is the insert's body.
type contentVersion struct {
	Title                  string `json:"Title"`
	PathOnClient           string `json:"PathOnClient"`
	VersionData            []byte `json:"VersionData"` // base64 in JSON
	FirstPublishLocationID string `json:"FirstPublishLocationId"`
}

func (a *Adapter) filer(s crm.Session, b crm.Budget) *push {
	return newPush(a.Sync().(*syncer), s, b, nil, nil)
}

// FindFile queries the opportunity's latest versions titled as f.
func (a *Adapter) FindFile(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	var out struct {
		Records []struct {
			ID string `json:"Id"`
		} `json:"records"`
	}
	q := "SELECT Id FROM ContentVersion WHERE FirstPublishLocationId = " + soqlString(f.RecordID) +
		" AND Title = " + soqlString(f.Title) + " AND IsLatest = true"
	if err := a.filer(s, b).call(ctx, http.MethodGet, queryURL(q), nil, &out); err != nil {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	if len(out.Records) == 0 {
		return "", nil
	}
	return out.Records[0].ID, nil
}

// Archive inserts f as a ContentVersion shared with its opportunity.
func (a *Adapter) Archive(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	var out struct {
		ID      string `json:"id"`
		Success bool   `json:"success"`
	}
	body := contentVersion{Title: f.Title, PathOnClient: f.Name, VersionData: f.Data, FirstPublishLocationID: f.RecordID}
	if err := a.filer(s, b).call(ctx, http.MethodPost, dataPath+"/sobjects/ContentVersion", body, &out); err != nil {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	return out.ID, nil
}
