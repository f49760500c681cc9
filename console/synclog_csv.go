package console

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/store"
)

// logCSV writes the sync log's export: RFC 4180 quoting (encoding/csv),
// and no cell a spreadsheet would run as a formula.
type logCSV struct {
	w    *csv.Writer
	rows int
}

// logCSVHeader is the export's first line (docs/sync.md lists it).
var logCSVHeader = []string{"id", "time_utc", "direction", "record_id", "crm_object", "crm_id", "outcome", "error_code", "message",
	"api_calls", "run_id", "written"}

// flushEvery is how many rows are written between flushes: the client
// gets the file as it is read, and the server holds little of it.
const flushEvery = 1000

func newLogCSV(w io.Writer) *logCSV {
	c := &logCSV{w: csv.NewWriter(w)}
	_ = c.w.Write(logCSVHeader)
	return c
}

func (c *logCSV) row(e store.SyncLogEntry) error {
	rec := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339), e.Direction, e.RecordID, e.CRMObject, e.CRMID,
		e.Outcome, string(e.Code), e.Message, strconv.Itoa(e.Calls), e.RunID, string(e.Written)}
	for i := range rec {
		rec[i] = safeCell(rec[i])
	}
	if err := c.w.Write(rec); err != nil {
		return err
	}
	if c.rows++; c.rows%flushEvery == 0 {
		c.w.Flush()
		return c.w.Error()
	}
	return nil
}

func (c *logCSV) flush() error {
	c.w.Flush()
	return c.w.Error()
}

// safeCell defuses a cell a spreadsheet would read as a formula (it
// starts with =, +, -, @, or a tab or carriage return that some strip
// first): a leading apostrophe makes it text. CRM messages and record
// values come from outside, so any cell may hold one.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
