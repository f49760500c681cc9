package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// What a pull needs to know of the org: its standard price book (the
// prices listed), its currencies (whether records carry CurrencyIsoCode,
// and the one currency they are in when not) and the integration user
// (whose saves are Qwoty's own: echoes). The connection does not keep the
// Salesforce user id (the sign-in stores the username, the connection
// neither), so the pull asks the org's UserInfo endpoint, with the
// connection's own token, who that is. Kept in memory per connection for
// a day.

type orgFacts struct {
	std      string
	multi    bool
	currency string
	userID   string
	at       time.Time
}

var pullFacts = struct {
	sync.Mutex
	m map[string]orgFacts
}{m: map[string]orgFacts{}}

// facts returns the connection's org facts, read when missing or a day
// old: one Composite request of three queries and one UserInfo call.
func (pl *puller) facts(ctx context.Context, p *push) (orgFacts, error) {
	id := p.conn.ID
	pullFacts.Lock()
	f, ok := pullFacts.m[id]
	pullFacts.Unlock()
	if ok && pl.s.now().Sub(f.at) < factsTTL {
		return f, nil
	}
	subs := []subrequest{
		{Method: "GET", URL: queryURL("SELECT Id FROM Pricebook2 WHERE IsStandard = true"), ReferenceID: "std"},
		{Method: "GET", URL: queryURL("SELECT DefaultCurrencyIsoCode FROM Organization"), ReferenceID: "org"},
		// CurrencyType exists only in a multi-currency org: elsewhere the
		// query is refused with INVALID_TYPE.
		{Method: "GET", URL: queryURL("SELECT IsoCode, IsCorporate FROM CurrencyType WHERE IsActive = true"), ReferenceID: "currencies"},
	}
	res, err := p.composite(ctx, false, subs)
	if err != nil {
		return f, err
	}
	f = orgFacts{at: pl.s.now()}
	rows, err := p.rows(ctx, res["std"])
	if err != nil {
		return f, err
	}
	if len(rows) > 0 {
		f.std = rows[0].str("Id")
	}
	if rows, err = p.rows(ctx, res["org"]); err != nil {
		return f, err
	}
	if len(rows) > 0 {
		f.currency = rows[0].str("DefaultCurrencyIsoCode")
	}
	switch cur := res["currencies"]; cur.Status {
	case http.StatusOK:
		f.multi = true
		if rows, err = p.rows(ctx, cur); err != nil {
			return f, err
		}
		for _, r := range rows {
			if r.boolean("IsCorporate") {
				f.currency = r.str("IsoCode")
			}
		}
	case http.StatusBadRequest:
		if _, errs := readBody(cur.Body); len(errs) == 0 || errs[0].code() != "INVALID_TYPE" {
			return f, queryError(cur.Status, errs)
		}
	default:
		_, errs := readBody(cur.Body)
		return f, queryError(cur.Status, errs)
	}
	var who struct {
		UserID string `json:"user_id"`
	}
	if err := p.call(ctx, http.MethodGet, "/services/oauth2/userinfo", nil, &who); err != nil {
		return f, fmt.Errorf("salesforce: who the connection's user is (UserInfo): %w", err)
	}
	if f.userID, err = NormalizeID(who.UserID); err != nil {
		return f, fmt.Errorf("salesforce: UserInfo's user_id: %w", err)
	}
	pullFacts.Lock()
	if len(pullFacts.m) >= maxRemembered {
		clear(pullFacts.m)
	}
	pullFacts.m[id] = f
	pullFacts.Unlock()
	return f, nil
}
