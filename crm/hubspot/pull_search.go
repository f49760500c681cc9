package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/qwoty/companion/crm"
)

// A listing pages by the modification time itself (keyset), never by the
// Search API's own paging: its "after" is an offset into the sorted
// results, so a record changed while the listing is read (its
// hs_lastmodifieddate moves it to the end) shifts every record behind it
// one place forward, and the next page, asked from the same offset, skips
// one of them; and a search stops at 10,000 results, an offset beyond
// which is refused. So each page is a new search, "hs_lastmodifieddate at
// or after the last time read", sorted by it ascending, from offset 0:
// the records at that exact time already returned are named in the cursor
// and dropped. A record that moves mid-listing is read again at its new
// time, never skipped, and no search goes past its first page.
//
// When a whole page has one time (more records than a page changed in the
// same millisecond: an import, a bulk edit), the next page cannot move
// past it by time; the listing then reads that millisecond by record id
// (hs_object_id above the last one, sorted by it), and goes on strictly
// after it.

// searchLimit is the most results a search page returns (the API's
// maximum, 200).
const searchLimit = 200

// pageSize is the search page size: Options.PullPage, for tests, or 200.
func (p *puller) pageSize() int {
	if n := p.a.o.PullPage; n > 0 && n < searchLimit {
		return n
	}
	return searchLimit
}

// searchCursor is a listing's place, kept as the page's Next (JSON).
type searchCursor struct {
	// T is the time (Unix ms) the next search starts at; IDs the records
	// of time T already returned.
	T   int64    `json:"t"`
	IDs []string `json:"ids,omitempty"`
	// Tie is set while the listing reads time T by id: the last id read.
	Tie string `json:"tie,omitempty"`
	// After is set once time T was read whole by id: the next search asks
	// for times strictly after T.
	After bool `json:"gt,omitempty"`
	// Currencies are the account's currencies, read once per product
	// listing.
	Currencies []string `json:"cur,omitempty"`
}

func (c searchCursor) encode() string {
	b, _ := json.Marshal(c)
	return string(b)
}

type searchFilter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value"`
}

type searchSort struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

type searchRequest struct {
	FilterGroups []filterGroup `json:"filterGroups"`
	Sorts        []searchSort  `json:"sorts"`
	Properties   []string      `json:"properties"`
	Limit        int           `json:"limit"`
	After        string        `json:"after,omitempty"`
}

type filterGroup struct {
	Filters []searchFilter `json:"filters"`
}

// searchObject is a record as search, batch read and the list endpoint
// answer it.
type searchObject struct {
	ID         string             `json:"id"`
	Properties map[string]*string `json:"properties"`
	UpdatedAt  time.Time          `json:"updatedAt"`
	Archived   bool               `json:"archived"`
	ArchivedAt time.Time          `json:"archivedAt"`
}

func (o *searchObject) prop(name string) string {
	if v := o.Properties[name]; v != nil {
		return *v
	}
	return ""
}

// modified is the record's hs_lastmodifieddate, else its updatedAt.
func (o *searchObject) modified() time.Time {
	if t, err := time.Parse(time.RFC3339Nano, o.prop("hs_lastmodifieddate")); err == nil {
		return t
	}
	return o.UpdatedAt
}

type searchAnswer struct {
	Total   int            `json:"total"`
	Results []searchObject `json:"results"`
}

// searchPath is the Search API of an object type.
func searchPath(object string) string { return "/crm/objects/2026-03/" + object + "/search" }

// searchPage reads one page of a live listing.
func (p *puller) searchPage(ctx context.Context, c *caller, kind string, from crm.PullFrom) (crm.PullPage, error) {
	var page crm.PullPage
	cur := searchCursor{T: max(from.Since.UnixMilli(), 0)}
	if from.Since.IsZero() {
		cur.T = 0
	}
	if from.Cursor != "" {
		if err := json.Unmarshal([]byte(from.Cursor), &cur); err != nil {
			return page, fmt.Errorf("hubspot: the %s listing's cursor is not ours: %w", kind, err)
		}
	}
	if kind == crm.KindProduct && cur.Currencies == nil {
		var err error
		if cur.Currencies, err = p.currencies(ctx, c); err != nil {
			return page, err
		}
	}
	extra, err := extraProperties(kind, from.Fields)
	if err != nil {
		return page, err
	}
	limit := p.pageSize()
	t := strconv.FormatInt(cur.T, 10)
	req := searchRequest{Properties: propertiesOf(kind, cur.Currencies, extra), Limit: limit}
	switch {
	case cur.Tie != "":
		req.FilterGroups = []filterGroup{{Filters: []searchFilter{
			{PropertyName: "hs_lastmodifieddate", Operator: "EQ", Value: t},
			{PropertyName: "hs_object_id", Operator: "GT", Value: cur.Tie}}}}
		req.Sorts = []searchSort{{PropertyName: "hs_object_id", Direction: "ASCENDING"}}
	default:
		op := "GTE"
		if cur.After {
			op = "GT"
		}
		req.FilterGroups = []filterGroup{{Filters: []searchFilter{{PropertyName: "hs_lastmodifieddate", Operator: op, Value: t}}}}
		req.Sorts = []searchSort{{PropertyName: "hs_lastmodifieddate", Direction: "ASCENDING"}}
	}
	var ans searchAnswer
	if err := c.call(ctx, searchBucket, http.MethodPost, searchPath(objectOf[kind]), nil, req, &ans); err != nil {
		return page, fmt.Errorf("hubspot: search %s: %w", objectOf[kind], err)
	}
	var keep []searchObject
	for _, o := range ans.Results {
		if cur.Tie == "" && !cur.After && o.modified().UnixMilli() == cur.T && slices.Contains(cur.IDs, o.ID) {
			continue
		}
		keep = append(keep, o)
	}
	recs, err := p.records(ctx, c, kind, keep, cur.Currencies)
	if err != nil {
		return page, err
	}
	crm.Asked(recs, extra)
	page.Records = recs
	next := cur
	n := len(ans.Results)
	switch {
	case cur.Tie != "":
		if n < limit {
			// The millisecond is read whole: go on strictly after it.
			next.Tie, next.IDs, next.After = "", nil, true
		} else {
			next.Tie = ans.Results[n-1].ID
		}
	case n < limit:
		// The search had no more: the listing is complete.
		return page, nil
	default:
		first, last := ans.Results[0].modified().UnixMilli(), ans.Results[n-1].modified().UnixMilli()
		if first == last {
			// A full page of one millisecond: read it by id.
			next = searchCursor{T: last, Tie: "0", Currencies: cur.Currencies}
			break
		}
		next = searchCursor{T: last, Currencies: cur.Currencies}
		for _, o := range ans.Results {
			if o.modified().UnixMilli() == last {
				next.IDs = append(next.IDs, o.ID)
			}
		}
	}
	page.Next = next.encode()
	return page, nil
}
