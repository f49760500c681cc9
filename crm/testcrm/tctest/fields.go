package tctest

import (
	"net/http"
	"slices"
	"sync"

	"github.com/qwoty/companion/crm/emulator"
)

// The test CRM's field list, as the emulator plays it:
//
//	GET /api/fields/{object}   (object: deal, company)
//	→ {"fields": [{"name", "label", "type", "options", "read_only", "custom"}]}
//
// A test changes the fields with SetFields (a field added or deleted by
// the account's admin).

// Field is a field of a deal or company.
type Field struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"` // text, email, number, money, date, datetime, bool, select, reference
	Options  []string `json:"options,omitempty"`
	ReadOnly bool     `json:"read_only,omitempty"`
	Custom   bool     `json:"custom,omitempty"`
}

// DefaultFields are every account's fields until a test changes them.
var DefaultFields = map[string][]Field{
	"deal": {
		{Name: "name", Label: "Deal name", Type: "text"},
		{Name: "amount", Label: "Amount", Type: "money"},
		{Name: "stage", Label: "Stage", Type: "select", Options: []string{"new", "proposal", "won", "lost"}},
		{Name: "close_date", Label: "Close date", Type: "date"},
		{Name: "company", Label: "Company", Type: "reference"},
		{Name: "weighted", Label: "Weighted amount", Type: "money", ReadOnly: true},
		{Name: "quote_number", Label: "Quote number", Type: "text", Custom: true},
		{Name: "quote_date", Label: "Quote date", Type: "date", Custom: true},
	},
	"company": {
		{Name: "name", Label: "Company name", Type: "text"},
		{Name: "email", Label: "Email", Type: "email"},
		{Name: "phone", Label: "Phone", Type: "text"},
	},
}

type fieldState struct {
	mu     sync.Mutex
	fields map[string][]Field
}

// SetFields replaces object's fields.
func (s *Server) SetFields(object string, fs []Field) {
	s.fieldSet.mu.Lock()
	defer s.fieldSet.mu.Unlock()
	if s.fieldSet.fields == nil {
		s.fieldSet.fields = map[string][]Field{}
	}
	s.fieldSet.fields[object] = slices.Clone(fs)
}

func (s *Server) fields(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.bearer(w, r); !ok {
		return
	}
	object := r.PathValue("object")
	s.fieldSet.mu.Lock()
	fs, ok := s.fieldSet.fields[object]
	s.fieldSet.mu.Unlock()
	if !ok {
		fs, ok = DefaultFields[object]
	}
	if !ok {
		apiError(w, http.StatusNotFound, "not_found", "no such object")
		return
	}
	emulator.JSON(w, contentType, http.StatusOK, map[string]any{"fields": fs})
}

// writable says why object's field name cannot be written ("" when it
// can): it does not exist, or it is read-only.
func (s *Server) writable(object, name string) string {
	s.fieldSet.mu.Lock()
	fs, ok := s.fieldSet.fields[object]
	s.fieldSet.mu.Unlock()
	if !ok {
		fs = DefaultFields[object]
	}
	for _, f := range fs {
		if f.Name == name {
			if f.ReadOnly {
				return "the field " + name + " is read-only"
			}
			return ""
		}
	}
	return "no field " + name + " on a " + object
}
