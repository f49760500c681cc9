package pipedrive

import (
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/shopspring/decimal"

	"github.com/qwoty/companion/qwoty"
)

// What Pipedrive sends us, from its documentation ("JSON panels", "Custom UI
// extensions").
//
// A JSON panel: when a deal's detail view (or the panel) is loaded or
// reloaded, Pipedrive sends
//
//	GET {API endpoint}?resource=deal&view=details&userId=12345&companyId=54321&selectedIds=3&isShared=false&token={JWT}
//
// and shows "Something went wrong…" if no answer comes within 10 seconds.
// When HTTP Auth username and password are configured for the panel it also
// sends them as a Basic Authorization header; a panel must have HTTP Auth,
// a JWT secret, or both.
//
//	resource     deal | person | organization: the detail view's entity
//	view         details
//	userId       the Pipedrive user looking at the panel (unsigned)
//	companyId    that user's Pipedrive company (unsigned)
//	selectedIds  the id of the entity shown, here the deal id (unsigned)
//	isShared     "true": the user has not installed the app but sees the
//	             panel shared by their company, and cannot use its actions;
//	             "false": the user installed the app
//	token        the HS256 JWT (see VerifyPanelToken) whose claims say which
//	             user of which company asks; only it is signed
//
// A custom UI extension (the custom panel showing /embed/pipedrive/card):
// when it is loaded or reloaded, Pipedrive points the iframe at
//
//	{Iframe URL}?userId=12345&companyId=54321&token={JWT}&id={runtime id}&resource=deal&view=details&selectedIds=3
//
// with the same meanings, plus
//
//	id           the iframe's runtime id, which the page hands to the app
//	             extensions SDK (the SDK reads it from the URL itself unless
//	             the URL was changed, e.g. by a redirect); the SDK must be
//	             initialised within 10 seconds or Pipedrive hides the iframe
//
// The documentation asks that the iframe request's token be validated
// server-side. The page can get a fresh token (valid 5 minutes) at any time
// with the SDK's GET_SIGNED_TOKEN command and send it to the server, which
// verifies it with VerifyPanelToken like the others. No token covers the
// entity id: selectedIds is as trustworthy as the URL.

// Query parameter names, as Pipedrive spells them.
const (
	ParamResource    = "resource"
	ParamView        = "view"
	ParamUserID      = "userId"
	ParamCompanyID   = "companyId"
	ParamSelectedIDs = "selectedIds"
	ParamIsShared    = "isShared"
	ParamToken       = "token"
	// ParamID is the custom UI extension's runtime id for the SDK.
	ParamID = "id"
)

// Panel limits from Pipedrive's documentation.
const (
	// MaxPanelObjects is how many objects a panel shows.
	MaxPanelObjects = 10
	// maxLabel is where Pipedrive truncates a label's text and an
	// external link's label.
	maxLabel = 40
	// maxErrorTitle is the documented maximum of an error state's title.
	maxErrorTitle = 30
)

// PanelResponse is a JSON panel's answer: its objects (the panel's JSON
// data structure in Developer Hub says what each holds; PanelSchema is
// ours), an optional external link at the bottom of the global actions and
// an optional link to the app's settings in the panel's actions menu.
// Pipedrive renders "Nothing to show" for an empty data array.
type PanelResponse struct {
	Data         []QuoteObject  `json:"data"`
	ExternalLink *ExternalLink  `json:"external_link,omitempty"`
	Settings     *PanelSettings `json:"settings,omitempty"`
}

// ExternalLink is the panel's "external link": the last entry of the global
// actions menu, or a green button when the panel has no global actions.
// Its label shows in full up to 40 characters, in sentence case.
type ExternalLink struct {
	URL   string `json:"url"`
	Label string `json:"label"`
}

// PanelSettings is the link to the app's settings in the panel's menu.
type PanelSettings struct {
	URL string `json:"url"`
}

// QuoteObject is one object of our multiple-object panel: one quote of the
// deal. Its keys are the properties of PanelSchema; a key Pipedrive does
// not expect (additionalProperties is false) breaks the whole panel.
type QuoteObject struct {
	// ID is the object's required numerical id: the quote's position in
	// the panel, from 1, since quote ids are not numbers.
	ID int `json:"id"`
	// Header is the object's title: the quote number and title.
	Header string `json:"header"`
	// Primary is set on the deal's primary quote only (the one sync writes
	// to the deal), and omitted on the others.
	Primary *LabelValue `json:"primary,omitempty"`
	Status  LabelValue  `json:"status"`
	// Sync is where the quote stands with Pipedrive, omitted for a quote
	// never bound for it (made before sync, or its triggers off).
	Sync  *LabelValue   `json:"sync,omitempty"`
	Total CurrencyValue `json:"total"`
	// Updated is a date-time field, YYYY-MM-DDThh:mm:ssZ.
	Updated string    `json:"updated"`
	Open    LinkValue `json:"open"`
}

// LabelValue is a "label" field: a colored tag, truncated after 40
// characters.
type LabelValue struct {
	Color LabelColor `json:"color"`
	Label string     `json:"label"`
}

// LabelColor is one of the colors Pipedrive offers for labels.
type LabelColor string

// Label colors.
const (
	LabelGreen  LabelColor = "green"
	LabelRed    LabelColor = "red"
	LabelBlue   LabelColor = "blue"
	LabelYellow LabelColor = "yellow"
	LabelPurple LabelColor = "purple"
	LabelGrey   LabelColor = "grey"
)

// CurrencyValue is a "currency" field: an ISO 4217 code (or one of the
// company's custom currencies) and an amount. Value is a JSON number
// written from the exact decimal, never through a float.
type CurrencyValue struct {
	Code  string      `json:"code"`
	Value json.Number `json:"value"`
}

// LinkValue is a "link" field in its object form: the URL, its anchor text
// and whether it opens in a new tab (external) or in Pipedrive's.
type LinkValue struct {
	Label    string `json:"label,omitempty"`
	Value    string `json:"value"`
	External bool   `json:"external"`
}

// PanelQuote is a quote as the panel shows it; the server fills it from
// the card core's quote summaries.
type PanelQuote struct {
	Number string
	Title  string
	Status qwoty.Status
	// Total is the exact decimal amount, as text.
	Total     string
	Currency  string
	UpdatedAt time.Time
	// URL opens the quote (in a new tab: the iframe card lives in the
	// custom panel, a JSON panel cannot frame it).
	URL string
	// Primary marks the deal's primary quote: its total, status and lines
	// are what sync writes to the deal.
	Primary bool
	// Sync is where the quote stands with Pipedrive, as the card answer
	// carries it.
	Sync PanelSync
}

// PanelSync is a quote's sync state as the card answer carries it
// (cardview.QuoteSync): State synced, pending, failed or "" (never bound
// for the CRM); At, when its deal was last pushed (zero when never); Code
// and Message, why it failed or waits.
type PanelSync struct {
	State   qwoty.SyncState
	At      time.Time
	Code    qwoty.Code
	Message string
}

// statusColors maps quote statuses to label colors.
var statusColors = map[qwoty.Status]LabelColor{
	qwoty.StatusDraft:    LabelGrey,
	qwoty.StatusSent:     LabelBlue,
	qwoty.StatusViewed:   LabelPurple,
	qwoty.StatusAccepted: LabelGreen,
	qwoty.StatusRejected: LabelRed,
	qwoty.StatusExpired:  LabelYellow,
}

// NewPanelResponse is NewPanelResponseAt on the wall clock.
func NewPanelResponse(quotes []PanelQuote, open ExternalLink, settingsURL string) (*PanelResponse, error) {
	return NewPanelResponseAt(time.Now(), quotes, open, settingsURL)
}

// NewPanelResponseAt builds the panel of a deal's quotes: the first
// MaxPanelObjects quotes, an external link (open, required: it is how the
// user reaches the card, e.g. "Open quotes" or "Create a quote") and, when
// settingsURL is set, the settings link. Every URL must be absolute https
// (http on loopback hosts, for the dev server). now is what "Synced 2 min
// ago" is read against.
func NewPanelResponseAt(now time.Time, quotes []PanelQuote, open ExternalLink, settingsURL string) (*PanelResponse, error) {
	if err := checkLinkURL(open.URL); err != nil {
		return nil, fmt.Errorf("pipedrive: panel external link: %w", err)
	}
	if open.Label == "" {
		return nil, fmt.Errorf("pipedrive: panel external link has no label")
	}
	r := &PanelResponse{
		Data:         make([]QuoteObject, 0, min(len(quotes), MaxPanelObjects)),
		ExternalLink: &ExternalLink{URL: open.URL, Label: truncate(open.Label, maxLabel)},
	}
	if settingsURL != "" {
		if err := checkLinkURL(settingsURL); err != nil {
			return nil, fmt.Errorf("pipedrive: panel settings link: %w", err)
		}
		r.Settings = &PanelSettings{URL: settingsURL}
	}
	for i, q := range quotes {
		if i == MaxPanelObjects {
			break
		}
		obj, err := quoteObject(now, i+1, q)
		if err != nil {
			return nil, fmt.Errorf("pipedrive: panel quote %s: %w", q.Number, err)
		}
		r.Data = append(r.Data, obj)
	}
	return r, nil
}

func quoteObject(now time.Time, id int, q PanelQuote) (QuoteObject, error) {
	color, ok := statusColors[q.Status]
	if !ok {
		return QuoteObject{}, fmt.Errorf("unknown status %q", q.Status)
	}
	total, err := decimal.NewFromString(q.Total)
	if err != nil {
		return QuoteObject{}, fmt.Errorf("total %q is not a decimal", q.Total)
	}
	if !qwoty.ValidCurrency(q.Currency) {
		return QuoteObject{}, fmt.Errorf("currency %q is not an ISO 4217 code", q.Currency)
	}
	if err := checkLinkURL(q.URL); err != nil {
		return QuoteObject{}, err
	}
	header := q.Number
	if q.Title != "" {
		header += " · " + q.Title
	}
	obj := QuoteObject{
		ID:      id,
		Header:  header,
		Status:  LabelValue{Color: color, Label: truncate(q.Status.Label(), maxLabel)},
		Sync:    syncLabel(now, q.Sync),
		Total:   CurrencyValue{Code: q.Currency, Value: json.Number(total.StringFixed(qwoty.CurrencyExponent(q.Currency)))},
		Updated: q.UpdatedAt.UTC().Format(time.RFC3339),
		Open:    LinkValue{Label: "Open", Value: q.URL, External: true},
	}
	if q.Primary {
		obj.Primary = &LabelValue{Color: LabelGreen, Label: "Yes"}
	}
	return obj, nil
}

// syncLabel is the card's sync line in a label's 40 characters, under the
// field label "Sync": "Synced 2 min ago" (green), "Syncing…" (blue),
// "Failed: <Pipedrive's message>" (red, cut: the whole message and Retry
// are in the card behind Open) and "Waiting: …" when an admin must
// reconnect (yellow, no Retry). A quote never bound for Pipedrive, or a
// state this server does not know, has no label.
func syncLabel(now time.Time, s PanelSync) *LabelValue {
	var l LabelValue
	switch s.State {
	case qwoty.SyncSynced:
		l = LabelValue{Color: LabelGreen, Label: "Synced" + spaced(qwoty.Ago(now, s.At))}
	case qwoty.SyncFailed:
		reason := s.Message
		if reason == "" {
			reason = "Pipedrive gave no reason"
		}
		l = LabelValue{Color: LabelRed, Label: "Failed: " + reason}
	case qwoty.SyncPending:
		switch {
		case s.Code == qwoty.CodeSyncReconnect:
			l = LabelValue{Color: LabelYellow, Label: "Waiting: reconnect to enable sync"}
		case qwoty.WaitsForAdmin(s.Code):
			l = LabelValue{Color: LabelYellow, Label: "Waiting: Pipedrive must be reconnected"}
		case s.Code == qwoty.CodeSyncFailed:
			l = LabelValue{Color: LabelBlue, Label: "Syncing… (trying again after an error)"}
		default:
			l = LabelValue{Color: LabelBlue, Label: "Syncing…"}
		}
	default:
		return nil
	}
	l.Label = truncate(l.Label, maxLabel)
	return &l
}

// checkLinkURL accepts the absolute URLs Pipedrive can open for a user.
func checkLinkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	return checkScheme(u)
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// PanelError is the body of a JSON panel's error answer. Pipedrive shows an
// interactive error state when the status is not a success and the body's
// "error" holds a title (at most 30 characters), an optional markdown
// subtitle and an optional call to action. The same object also carries
// our contract's error fields (code, message, hint, requestId), which
// Pipedrive ignores (assumed) and our logs and tests read.
type PanelError struct {
	Error PanelErrorDetail `json:"error"`
}

// PanelErrorDetail is the "error" object of a PanelError.
type PanelErrorDetail struct {
	Title    string        `json:"title"`
	Subtitle string        `json:"subtitle,omitempty"`
	Action   *ExternalLink `json:"action,omitempty"`

	Code      qwoty.Code `json:"code"`
	Message   string     `json:"message"`
	Hint      string     `json:"hint,omitempty"`
	RequestID string     `json:"requestId,omitempty"`
}

// NewPanelError builds the error answer for e: its message (cut to fit) as
// the title, its hint as the subtitle, and an optional call to action.
func NewPanelError(e *qwoty.Error, requestID string, action *ExternalLink) *PanelError {
	return &PanelError{Error: PanelErrorDetail{
		Title:     truncate(e.Message, maxErrorTitle),
		Subtitle:  e.Hint,
		Action:    action,
		Code:      e.Code,
		Message:   e.Message,
		Hint:      e.Hint,
		RequestID: requestID,
	}}
}

// PanelSchema is the JSON data structure to paste into the JSON panel's form
// in Developer Hub: a multiple-object panel of QuoteObject. Pipedrive
// checks every answer against it, so it and QuoteObject change together.
// primary and sync came with sync (issue 13): a panel whose pasted
// structure lacks them fails until this one is pasted again.
const PanelSchema = `{
  "type": "array",
  "items": {
    "type": "object",
    "required": ["id", "header"],
    "properties": {
      "id": {"$ref": "#/definitions/numerical"},
      "header": {"$ref": "#/definitions/header"},
      "primary": {"$ref": "#/definitions/label", "label": "Primary"},
      "status": {"$ref": "#/definitions/label", "label": "Status"},
      "sync": {"$ref": "#/definitions/label", "label": "Sync"},
      "total": {"$ref": "#/definitions/currency", "label": "Total"},
      "updated": {"$ref": "#/definitions/date-time", "label": "Updated"},
      "open": {"$ref": "#/definitions/link", "label": "Quote"}
    }
  }
}`

// spaced is s after a space, or "" for "".
func spaced(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}
