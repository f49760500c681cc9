package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/qwoty/companion/crm"
)

// What a push needs to know of the org before it writes: its standard price
// book, its currencies and whether Quotes are on. One Composite request
// reads them; they are kept in the connection's links for a day.

const (
	factsObject = "Organization"
	factsRef    = "qwoty:sync-facts"
	// factsTTL is how long the facts are trusted: an admin may turn Quotes
	// on or add currencies meanwhile.
	factsTTL = 24 * time.Hour
)

type facts struct {
	// std is the standard price book's id.
	std string
	// quotes: Quotes are enabled (GET /sobjects/Quote answers 200, not 404).
	quotes bool
	// multi: the org has several currencies (CurrencyType exists), whose
	// records carry CurrencyIsoCode; currency is the corporate one, or a
	// single-currency org's only one.
	multi    bool
	currency string
	at       time.Time
}

// encode is the facts as the links keep them (the cache entry's Hash).
func (f facts) encode() string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	return "v1;quotes=" + b(f.quotes) + ";multi=" + b(f.multi) + ";currency=" + f.currency + ";at=" + strconv.FormatInt(f.at.Unix(), 10)
}

func decodeFacts(std, s string) (facts, bool) {
	f := facts{std: std}
	parts := strings.Split(s, ";")
	if len(parts) != 5 || parts[0] != "v1" || std == "" {
		return f, false
	}
	kv := map[string]string{}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(p, "=")
		kv[k] = v
	}
	at, err := strconv.ParseInt(kv["at"], 10, 64)
	if err != nil || kv["currency"] == "" {
		return f, false
	}
	f.quotes, f.multi, f.currency, f.at = kv["quotes"] == "1", kv["multi"] == "1", kv["currency"], time.Unix(at, 0)
	return f, true
}

// loadFacts reads the org's facts from the links, or from the org when
// they are missing or a day old.
func (p *push) loadFacts(ctx context.Context) error {
	cached, err := p.links.Find(ctx, factsObject, []string{factsRef})
	if err != nil {
		return err
	}
	if l, ok := cached[factsRef]; ok {
		if f, ok := decodeFacts(l.CRMID, l.Hash); ok && p.s.now().Sub(f.at) < factsTTL {
			p.facts = f
			return nil
		}
	}
	subs := []subrequest{
		{Method: "GET", URL: queryURL("SELECT Id FROM Pricebook2 WHERE IsStandard = true"), ReferenceID: "std"},
		{Method: "GET", URL: queryURL("SELECT DefaultCurrencyIsoCode FROM Organization"), ReferenceID: "org"},
		// CurrencyType exists only in a multi-currency org: elsewhere the
		// query is refused with INVALID_TYPE.
		{Method: "GET", URL: queryURL("SELECT IsoCode, IsCorporate FROM CurrencyType WHERE IsActive = true"), ReferenceID: "currencies"},
		// Without Quotes, the Quote object does not exist: 404.
		{Method: "GET", URL: dataPath + "/sobjects/Quote", ReferenceID: "quote"},
	}
	res, err := p.composite(ctx, false, subs)
	if err != nil {
		return err
	}
	f := facts{at: p.s.now()}
	rows, err := p.rows(ctx, res["std"])
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return crm.Rejected(fmt.Errorf("the org has no standard price book, which every product needs a price in"))
	}
	f.std = rows[0].str("Id")
	if rows, err = p.rows(ctx, res["org"]); err != nil {
		return err
	}
	if len(rows) > 0 {
		f.currency = rows[0].str("DefaultCurrencyIsoCode")
	}
	switch cur := res["currencies"]; cur.Status {
	case http.StatusOK:
		f.multi = true
		if rows, err = p.rows(ctx, cur); err != nil {
			return err
		}
		for _, r := range rows {
			if r.boolean("IsCorporate") {
				f.currency = r.str("IsoCode")
			}
		}
	case http.StatusBadRequest:
		if _, errs := readBody(cur.Body); len(errs) == 0 || errs[0].code() != "INVALID_TYPE" {
			return queryError(cur.Status, errs)
		}
	default:
		_, errs := readBody(cur.Body)
		return queryError(cur.Status, errs)
	}
	switch q := res["quote"]; q.Status {
	case http.StatusOK:
		f.quotes = true
	case http.StatusNotFound:
	default:
		_, errs := readBody(q.Body)
		return queryError(q.Status, errs)
	}
	if f.currency == "" {
		return fmt.Errorf("salesforce: the org's currency could not be read")
	}
	p.facts = f
	return p.links.Save(ctx, []crm.RefLink{{Object: factsObject, Ref: factsRef, CRMID: f.std, Hash: f.encode()}})
}

// forgetFacts drops the cached facts, so that the next push reads them.
func (p *push) forgetFacts(ctx context.Context) {
	_ = p.links.Drop(ctx, factsObject, []string{factsRef})
}
