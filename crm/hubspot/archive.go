package hubspot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/qwoty/companion/crm"
	"github.com/qwoty/companion/qwoty"
)

// Files on deals. HubSpot attaches a file to a record through a note: the
// PDF of each sent version is uploaded to the file manager (Files API,
// POST /files/v3/files: a multipart form with the file, its "options"
// whose access is PRIVATE, and the folder path ArchiveFolder), then a note
// whose hs_attachment_ids names the file is created, associated with the
// deal (type 214, note to deal): the PDF shows on the deal's timeline and
// in its Attachments card. Each call takes one unit of the connection's
// burst budget, as every sync call.
//
// Exactly once: the upload looks for a file of the same name in the folder
// first (an upload whose note was never made), and a retry after a lost
// answer (FindFile) looks at the deal's notes for one attaching that file.

var _ crm.Archiver = (*Adapter)(nil)

// ArchiveFolder is the file manager folder Qwoty's PDFs go in.
const ArchiveFolder = "/Qwoty quotes"

// MaxFileSize is the largest file Qwoty files in HubSpot: 25 MB, under the
// file manager's limits.
const MaxFileSize = 25 << 20

// maxNotesRead bounds the notes FindFile reads, newest first.
const maxNotesRead = 50

// noteToDeal is the HUBSPOT_DEFINED association type from a note to a deal.
const noteToDeal = 214

// Paths of the calls (the Files API's v3, the notes' dated objects API, the
// associations' v4).
const (
	filesPath       = "/files/v3/files"
	filesSearchPath = "/files/v3/files/search"
	notesPath       = "/crm/objects/2026-03/notes"
)

// rawBody is a request body sent as it is (a multipart form), for push.call.
type rawBody struct {
	data []byte
	typ  string
}

// ArchiveReady refuses a connection made before filing needed its scopes.
func (a *Adapter) ArchiveReady(conn *qwoty.Connection) error {
	var missing []string
	for _, sc := range ArchiveScopes {
		if !slices.Contains(conn.Scopes, sc) {
			missing = append(missing, sc)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return qwoty.E(qwoty.CodeSyncReconnect, "the HubSpot connection was not granted %s, which Qwoty needs to file quote PDFs on deals: reconnect HubSpot",
		strings.Join(missing, ", "))
}

// MaxFileSize implements crm.Archiver.
func (a *Adapter) MaxFileSize() int64 { return MaxFileSize }

func (a *Adapter) filer(s crm.Session, b crm.Budget) *push {
	return &push{s: a.Sync().(*syncer), sess: s, budget: b}
}

type hsFile struct {
	ID   string `json:"id"`
	Path string `json:"path"`
}

// fileNamed returns the id of the file f in ArchiveFolder, "" when none.
func (p *push) fileNamed(ctx context.Context, f crm.File) (string, error) {
	var out struct {
		Results []hsFile `json:"results"`
	}
	q := url.Values{"name": {f.Title}}
	if err := p.call(ctx, http.MethodGet, filesSearchPath+"?"+q.Encode(), nil, &out); err != nil {
		return "", err
	}
	for _, r := range out.Results {
		if r.Path == ArchiveFolder+"/"+f.Name {
			return r.ID, nil
		}
	}
	return "", nil
}

// FindFile finds the note on f's deal that attaches the file f.
func (a *Adapter) FindFile(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	p := a.filer(s, b)
	id, err := p.fileNamed(ctx, f)
	if err != nil || id == "" {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	var assoc struct {
		Results []struct {
			ID int64 `json:"toObjectId"`
		} `json:"results"`
	}
	if err := p.call(ctx, http.MethodGet, "/crm/v4/objects/deals/"+url.PathEscape(f.RecordID)+"/associations/notes?limit=500", nil, &assoc); err != nil {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	notes := assoc.Results
	slices.Reverse(notes) // newest first
	for _, n := range notes[:min(len(notes), maxNotesRead)] {
		var note struct {
			Properties map[string]string `json:"properties"`
		}
		if err := p.call(ctx, http.MethodGet, notesPath+"/"+strconv.FormatInt(n.ID, 10)+"?properties=hs_attachment_ids", nil, &note); err != nil {
			return "", crm.ClassifyArchive(ctx, b, err)
		}
		if slices.Contains(strings.Split(note.Properties["hs_attachment_ids"], ";"), id) {
			return id, nil
		}
	}
	return "", nil
}

// Archive uploads f (or takes the file of its name an earlier attempt
// uploaded) and attaches it to the deal with a note.
func (a *Adapter) Archive(ctx context.Context, s crm.Session, b crm.Budget, f crm.File) (string, error) {
	p := a.filer(s, b)
	id, err := p.fileNamed(ctx, f)
	if err != nil {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	if id == "" {
		opts, _ := json.Marshal(map[string]any{"access": "PRIVATE", "overwrite": false})
		body, typ, err := crm.Multipart(
			crm.Part{Name: "file", FileName: f.Name, ContentType: f.ContentType, Data: f.Data},
			crm.Part{Name: "fileName", Data: []byte(f.Name)},
			crm.Part{Name: "folderPath", Data: []byte(ArchiveFolder)},
			crm.Part{Name: "options", Data: opts})
		if err != nil {
			return "", err
		}
		var up hsFile
		if err := p.call(ctx, http.MethodPost, filesPath, rawBody{body, typ}, &up); err != nil {
			return "", crm.ClassifyArchive(ctx, b, err)
		}
		id = up.ID
	}
	note := map[string]any{
		"properties": map[string]string{
			"hs_timestamp":      strconv.FormatInt(a.now().UnixMilli(), 10),
			"hs_note_body":      "Quote " + f.Title + " sent: its PDF is attached.",
			"hs_attachment_ids": id,
		},
		"associations": []inlineAssoc{{To: objectRef{ID: f.RecordID}, Types: []assocType{{Category: "HUBSPOT_DEFINED", TypeID: noteToDeal}}}},
	}
	if err := p.call(ctx, http.MethodPost, notesPath, note, nil); err != nil {
		return "", crm.ClassifyArchive(ctx, b, err)
	}
	return id, nil
}
