package tctest

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/qwoty/companion/crm/emulator"
)

// The test CRM's files on deals, as the emulator plays it:
//
//	POST /api/deals/{id}/files   multipart/form-data with one part "file" (its filename and bytes)
//	GET  /api/deals/{id}/files   {"files": [{"id", "name", "size", "content_type"}]}
//
// A file is at most MaxFileSize bytes (413 past it); the part must be
// named "file" and carry a filename (400 otherwise); the token needs
// deals:write to post (403); a deal that does not exist, or was removed
// (RemoveDeal), is 404. Every call counts against the rate limit
// (RateLimit), as the sync endpoint's.

// MaxFileSize is the largest file the test CRM takes.
const MaxFileSize = 10 << 20

// File is a file on a deal.
type File struct {
	ID          string
	Name        string
	ContentType string
	Data        []byte
}

type fileState struct {
	mu    sync.Mutex
	files map[string][]File
	gone  map[string]bool
	seq   int
}

// Files returns the files on deal id, oldest first.
func (s *Server) Files(id string) []File {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	return append([]File(nil), s.files.files[id]...)
}

// RemoveDeal makes deal id gone, as a person deleting it in the CRM: its
// file calls answer 404.
func (s *Server) RemoveDeal(id string) {
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	if s.files.gone == nil {
		s.files.gone = map[string]bool{}
	}
	s.files.gone[id] = true
}

// fileDeal authenticates a file call and finds its deal; false once it has
// answered.
func (s *Server) fileDeal(w http.ResponseWriter, r *http.Request) (grant, string, bool) {
	g, ok := s.bearer(w, r)
	if !ok {
		return g, "", false
	}
	id := r.PathValue("id")
	exists := s.opts.AnyDeal && g.account == &s.opts.Accounts[0] || s.listed(id)
	for _, d := range g.account.Deals {
		exists = exists || d.ID == id
	}
	s.files.mu.Lock()
	gone := s.files.gone[id]
	s.files.mu.Unlock()
	if !exists || gone {
		apiError(w, http.StatusNotFound, "not_found", "no such deal")
		return g, "", false
	}
	return g, id, !s.overLimit(w)
}

// postFile is POST /api/deals/{id}/files.
func (s *Server) postFile(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.fileDeal(w, r)
	if !ok {
		return
	}
	if !slices.Contains(strings.Fields(s.opts.Scope), "deals:write") {
		apiError(w, http.StatusForbidden, "forbidden", "the token may not write deals")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "multipart/form-data" {
		apiError(w, http.StatusBadRequest, "bad_request", "the body must be multipart/form-data")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFileSize+1<<20)
	if err := r.ParseMultipartForm(MaxFileSize + 1<<20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			apiError(w, http.StatusRequestEntityTooLarge, "too_large", "a file is at most "+strconv.Itoa(MaxFileSize)+" bytes")
			return
		}
		apiError(w, http.StatusBadRequest, "bad_request", "the body is not a multipart form: "+err.Error())
		return
	}
	defer r.MultipartForm.RemoveAll()
	fhs := r.MultipartForm.File["file"]
	if len(fhs) != 1 || fhs[0].Filename == "" {
		apiError(w, http.StatusBadRequest, "bad_request", `the form needs one part "file" with a filename`)
		return
	}
	fh := fhs[0]
	if fh.Size > MaxFileSize {
		apiError(w, http.StatusRequestEntityTooLarge, "too_large", "a file is at most "+strconv.Itoa(MaxFileSize)+" bytes")
		return
	}
	f, err := fh.Open()
	if err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	defer f.Close()
	data := make([]byte, fh.Size)
	if _, err := io.ReadFull(f, data); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", err.Error())
		return
	}
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	if s.files.files == nil {
		s.files.files = map[string][]File{}
	}
	s.files.seq++
	file := File{ID: "file-" + strconv.Itoa(s.files.seq), Name: fh.Filename, ContentType: fh.Header.Get("Content-Type"), Data: data}
	s.files.files[id] = append(s.files.files[id], file)
	emulator.JSON(w, contentType, http.StatusCreated, fileJSON(file))
}

// listFiles is GET /api/deals/{id}/files.
func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.fileDeal(w, r)
	if !ok {
		return
	}
	s.files.mu.Lock()
	defer s.files.mu.Unlock()
	out := []map[string]any{}
	for _, f := range s.files.files[id] {
		out = append(out, fileJSON(f))
	}
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"files": out})
}

func fileJSON(f File) map[string]any {
	return map[string]any{"id": f.ID, "name": f.Name, "size": len(f.Data), "content_type": f.ContentType}
}
