package hstest

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Files attached to deals, as HubSpot does it: a file is uploaded to the
// file manager (Files API, POST /files/v3/files or its dated twin
// /files/2026-03/files: multipart/form-data with the part "file", required;
// "options", a JSON object whose "access" is required, PUBLIC_INDEXABLE,
// PUBLIC_NOT_INDEXABLE or PRIVATE; and "folderId" or "folderPath", one and
// not both; "fileName" optional; scope "files"; 201 with the file's id),
// then attached to a record through a note (engagement) whose
// hs_attachment_ids lists it, associated with the deal (Notes API, POST
// /crm/v3/objects/notes or /crm/objects/2026-03/notes; hs_timestamp
// required; association type 214, note to deal, HUBSPOT_DEFINED; scope
// crm.objects.contacts.write, as the notes guide lists). GET
// /files/v3/files/search?name= finds files by name (without the
// extension, as HubSpot's files carry it apart); GET
// /crm/v4/objects/deals/{id}/associations/notes lists a deal's notes; GET
// /crm/objects/2026-03/notes/{id} reads one (scope crm.objects.contacts.read
// or .write). Every call counts against the portal's rate limit.
//
// Assumed where the documentation is silent: the files' size limit
// (MaxFileSize, 413 past it); the wording and categories of the 400s; a
// note whose association or attachment names no live record is refused
// whole with 400 VALIDATION_ERROR, and nothing is stored.

// MaxFileSize is the largest file the emulator takes (assumed 300 MB).
const MaxFileSize = 300 << 20

// NoteToDeal is the HUBSPOT_DEFINED association type from a note to a deal.
const NoteToDeal = 214

// File is a file of a portal's file manager.
type File struct {
	ID     string
	Name   string // without its extension
	Ext    string
	Path   string // its folder and full name: "/Qwoty quotes/Q-00001 v1.pdf"
	Access string
	Data   []byte
}

// Note is a note (engagement) of a portal.
type Note struct {
	ID          string
	Properties  map[string]string
	DealIDs     []string
	Attachments []string
}

// Files returns the files attached to deal id through its notes, in the
// notes' order.
func (s *Server) Files(portalID int64, dealID string) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.mustPortal(portalID)
	var out []File
	for _, id := range sortedIDs(p.notes) {
		n := p.notes[id]
		if !slices.Contains(n.DealIDs, dealID) {
			continue
		}
		for _, f := range n.Attachments {
			if file := p.files[f]; file != nil {
				out = append(out, *file)
			}
		}
	}
	return out
}

// AllFiles counts the files of the file manager, attached or not.
func (s *Server) AllFiles(portalID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mustPortal(portalID).files)
}

// scoped answers 403 MISSING_SCOPES unless the token holds one of scopes.
func scoped(w http.ResponseWriter, granted []string, scopes ...string) bool {
	for _, sc := range scopes {
		if slices.Contains(granted, sc) {
			return true
		}
	}
	missingScopes(w, scopes...)
	return false
}

// uploadFile is POST /files/v3/files.
func (s *Server) uploadFile(w http.ResponseWriter, r *http.Request) {
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) || !scoped(w, a.Grant.scopes, "files") {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		apiError(w, http.StatusUnsupportedMediaType, "VALIDATION_ERROR", "Content type '"+r.Header.Get("Content-Type")+"' not supported: use multipart/form-data")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFileSize+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(w, http.StatusRequestEntityTooLarge, "VALIDATION_ERROR", "The file is too large")
			return
		}
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "The body is not a multipart form: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	form := r.MultipartForm
	fhs := form.File["file"]
	if len(fhs) != 1 {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "file is required")
		return
	}
	var opts struct {
		Access string `json:"access"`
	}
	if o := form.Value["options"]; len(o) != 1 || json.Unmarshal([]byte(o[0]), &opts) != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "options is required: a JSON object with access")
		return
	}
	if !slices.Contains([]string{"PUBLIC_INDEXABLE", "PUBLIC_NOT_INDEXABLE", "PRIVATE"}, opts.Access) {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "options.access must be one of PUBLIC_INDEXABLE, PUBLIC_NOT_INDEXABLE, PRIVATE")
		return
	}
	folderID, folderPath := first(form.Value["folderId"]), first(form.Value["folderPath"])
	if (folderID == "") == (folderPath == "") {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Either folderId or folderPath must be provided, and not both")
		return
	}
	if folderID != "" {
		// Folders by id are not emulated: files go by path.
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "folderId is not served by this emulator: use folderPath")
		return
	}
	fh := fhs[0]
	if fh.Size > MaxFileSize {
		apiError(w, http.StatusRequestEntityTooLarge, "VALIDATION_ERROR", "The file is too large")
		return
	}
	name := first(form.Value["fileName"])
	if name == "" {
		name = fh.Filename
	}
	if name == "" {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "the file has no name: set fileName")
		return
	}
	f, err := fh.Open()
	if err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "file is required")
		return
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "file is required")
		return
	}
	base, ext := name, ""
	if i := strings.LastIndex(name, "."); i > 0 {
		base, ext = name[:i], strings.ToLower(name[i+1:])
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.files == nil {
		p.files = map[string]*File{}
	}
	file := &File{ID: p.newID(), Name: base, Ext: ext, Path: strings.TrimRight(folderPath, "/") + "/" + name, Access: opts.Access, Data: data}
	p.files[file.ID] = file
	writeJSON(w, http.StatusCreated, fileJSON(file))
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func fileJSON(f *File) map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "extension": f.Ext, "path": f.Path, "access": f.Access,
		"size": len(f.Data), "type": "DOCUMENT", "archived": false, "isUsableInContent": false}
}

// searchFiles is GET /files/v3/files/search (by name only).
func (s *Server) searchFiles(w http.ResponseWriter, r *http.Request) {
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) || !scoped(w, a.Grant.scopes, "files") {
		return
	}
	name := r.URL.Query().Get("name")
	s.mu.Lock()
	defer s.mu.Unlock()
	results := []map[string]any{}
	for _, id := range sortedIDs(p.files) {
		if f := p.files[id]; name == "" || f.Name == name {
			results = append(results, fileJSON(f))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

// createNote is POST /crm/v3/objects/notes.
func (s *Server) createNote(w http.ResponseWriter, r *http.Request) {
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) || !scoped(w, a.Grant.scopes, "crm.objects.contacts.write") {
		return
	}
	var body struct {
		Properties   map[string]string `json:"properties"`
		Associations []struct {
			To struct {
				ID string `json:"id"`
			} `json:"to"`
			Types []struct {
				Category string `json:"associationCategory"`
				TypeID   int    `json:"associationTypeId"`
			} `json:"types"`
		} `json:"associations"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "Invalid input JSON: "+err.Error())
		return
	}
	if body.Properties["hs_timestamp"] == "" {
		apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", `Property values were not valid: [{"isValid":false,"message":"hs_timestamp is required","error":"REQUIRED_FIELD","name":"hs_timestamp"}]`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := &Note{Properties: body.Properties}
	for _, id := range strings.Split(body.Properties["hs_attachment_ids"], ";") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if p.files[id] == nil {
			apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "hs_attachment_ids: no file "+id)
			return
		}
		n.Attachments = append(n.Attachments, id)
	}
	for _, as := range body.Associations {
		if len(as.Types) != 1 || as.Types[0].Category != "HUBSPOT_DEFINED" || as.Types[0].TypeID != NoteToDeal {
			apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "this emulator associates notes to deals only, with the HUBSPOT_DEFINED type 214")
			return
		}
		if _, ok := p.deals[as.To.ID]; !ok {
			apiError(w, http.StatusBadRequest, "VALIDATION_ERROR", "One or more associations are invalid: deal "+as.To.ID+" was not found")
			return
		}
		n.DealIDs = append(n.DealIDs, as.To.ID)
	}
	if p.notes == nil {
		p.notes = map[string]*Note{}
	}
	n.ID = p.newID()
	p.notes[n.ID] = n
	writeJSON(w, http.StatusCreated, noteJSON(n, nil))
}

func noteJSON(n *Note, props []string) map[string]any {
	out := map[string]string{"hs_object_id": n.ID}
	for _, k := range props {
		if v, ok := n.Properties[k]; ok {
			out[k] = v
		}
	}
	if props == nil {
		for k, v := range n.Properties {
			out[k] = v
		}
	}
	return map[string]any{"id": n.ID, "properties": out, "archived": false}
}

// readNote is GET /crm/objects/2026-03/notes/{id}.
func (s *Server) readNote(w http.ResponseWriter, r *http.Request) {
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) || !scoped(w, a.Grant.scopes, "crm.objects.contacts.read", "crm.objects.contacts.write") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := p.notes[r.PathValue("id")]
	if n == nil {
		apiError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found")
		return
	}
	writeJSON(w, http.StatusOK, noteJSON(n, splitList(r.URL.Query()["properties"])))
}

// dealNotes is GET /crm/v4/objects/deals/{id}/associations/notes.
func (s *Server) dealNotes(w http.ResponseWriter, r *http.Request) {
	a, ok := s.bearer(w, r)
	if !ok {
		return
	}
	p := a.Grant.user.portal
	if !s.limit(w, p) || !scoped(w, a.Grant.scopes, "crm.objects.deals.read") {
		return
	}
	deal := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := p.deals[deal]; !ok {
		apiError(w, http.StatusNotFound, "OBJECT_NOT_FOUND", "resource not found: deal "+deal)
		return
	}
	results := []map[string]any{}
	for _, id := range sortedIDs(p.notes) {
		if slices.Contains(p.notes[id].DealIDs, deal) {
			n, _ := strconv.ParseInt(id, 10, 64)
			results = append(results, map[string]any{"toObjectId": n,
				"associationTypes": []map[string]any{{"category": "HUBSPOT_DEFINED", "typeId": NoteToDeal, "label": nil}}})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}
