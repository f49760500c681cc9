package pdtest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// Files (developers.pipedrive.com/docs/api/v1/Files): POST /api/v1/files
// uploads "a single file, supplied in the multipart/form-data encoding",
// the part "file" required, and associates it with the deal deal_id (or a
// person, an organization...: not emulated); GET /api/v1/deals/{id}/files
// lists a deal's files (start, limit: at most 100 a page). The upload's
// cost is the reference's 10 tokens; the listing's 20, as the v1 "Get all
// files" (assumed for the deal's listing). Both need a deals scope (the
// scopes page puts a deal's files under "Deals"): deals:full to upload.
//
// Assumed where the reference is silent: a file is at most MaxFileSize
// bytes (413 past it); a missing "file" part is 400 "No file was
// uploaded"; an unknown deal_id is 404 "Deal not found", and nothing is
// stored.

// MaxFileSize is the largest file the emulator takes (assumed: 50 MB).
const MaxFileSize = 50 << 20

// Cost of the file endpoints (see above).
const (
	costAddFile       = 10
	costListDealFiles = 20
)

// File is a file on a deal.
type File struct {
	ID       int64
	DealID   int64
	Name     string
	FileType string
	Data     []byte
}

// Files returns the files of deal id of company companyID, oldest first.
func (s *Server) Files(companyID, dealID int64) []File {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []File
	for _, f := range s.mustCompany(companyID).files {
		if f.DealID == dealID {
			out = append(out, *f)
		}
	}
	return out
}

// DeleteDeal deletes a deal: it is found no more.
func (s *Server) DeleteDeal(companyID, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.mustCompany(companyID).deals, id)
}

// addFile is POST /api/v1/files.
func (s *Server) addFile(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:full") {
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		apiError(w, http.StatusBadRequest, "No file was uploaded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFileSize+1<<20)
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(w, http.StatusRequestEntityTooLarge, "File is too large")
			return
		}
		apiError(w, http.StatusBadRequest, "No file was uploaded")
		return
	}
	defer r.MultipartForm.RemoveAll()
	fhs := r.MultipartForm.File["file"]
	if len(fhs) != 1 || fhs[0].Filename == "" {
		apiError(w, http.StatusBadRequest, "No file was uploaded")
		return
	}
	fh := fhs[0]
	if fh.Size > MaxFileSize {
		apiError(w, http.StatusRequestEntityTooLarge, "File is too large")
		return
	}
	dealRaw := r.MultipartForm.Value["deal_id"]
	if len(dealRaw) != 1 {
		// Files on persons, organizations, products, activities and
		// leads are not emulated.
		apiError(w, http.StatusBadRequest, "deal_id is required by this emulator")
		return
	}
	if _, err := strconv.ParseInt(dealRaw[0], 10, 64); err != nil {
		apiError(w, http.StatusBadRequest, "deal_id must be an integer")
		return
	}
	f, err := fh.Open()
	if err != nil {
		apiError(w, http.StatusBadRequest, "No file was uploaded")
		return
	}
	data, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		apiError(w, http.StatusBadRequest, "No file was uploaded")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, dealRaw[0])
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	c := u.company
	s.nextFile++
	file := &File{ID: s.nextFile, DealID: d.ID, Name: fh.Filename, FileType: fileType(fh.Filename), Data: data}
	c.files = append(c.files, file)
	success(w, fileJSON(u, file))
}

// listDealFiles is GET /api/v1/deals/{id}/files.
func (s *Server) listDealFiles(w http.ResponseWriter, r *http.Request, u *user) {
	if !s.granted(w, "deals:read", "deals:full") {
		return
	}
	start, limit := 0, 100
	if v := r.URL.Query().Get("start"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			apiError(w, http.StatusBadRequest, "start must be a non-negative integer")
			return
		}
		start = n
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			apiError(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
			return
		}
		limit = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.findDeal(u, r.PathValue("id"))
	if !ok {
		apiError(w, http.StatusNotFound, "Deal not found")
		return
	}
	var all []map[string]any
	for _, f := range u.company.files {
		if f.DealID == d.ID {
			all = append(all, fileJSON(u, f))
		}
	}
	page := all[min(start, len(all)):min(start+limit, len(all))]
	more := start+limit < len(all)
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": page, "additional_data": map[string]any{
		"pagination": map[string]any{"start": start, "limit": limit, "more_items_in_collection": more, "next_start": start + limit}}})
}

// fileJSON is a file as v1 shows it: file_name is the stored name (the
// upload's with a unique suffix), name the name it was uploaded under.
func fileJSON(u *user, f *File) map[string]any {
	base, ext, _ := strings.Cut(f.Name, ".")
	return map[string]any{"id": f.ID, "deal_id": f.DealID, "user_id": u.ID, "name": f.Name,
		"file_name": base + "_" + strconv.FormatInt(f.ID, 10) + "." + ext, "file_type": f.FileType,
		"file_size": len(f.Data), "active_flag": true, "inline_flag": false, "remote_location": "s3",
		"add_time": created.Format("2006-01-02 15:04:05"), "update_time": created.Format("2006-01-02 15:04:05")}
}

// fileType is the file_type Pipedrive shows for a name (assumed: its
// extension, "pdf").
func fileType(name string) string {
	if i := strings.LastIndex(name, "."); i >= 0 {
		return strings.ToLower(name[i+1:])
	}
	return ""
}
