package sftest

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/shopspring/decimal"
)

// A SOQL subset, enough for what Qwoty's sync sends and honest about the
// rest: a query outside it is refused as malformed, never answered wrongly.
//
//	SELECT item [, item]... FROM Object
//	  [WHERE expr] [ORDER BY path [ASC|DESC] [, ...]] [LIMIT n]
//	item: path | (SELECT path [, path]... FROM ChildRelationship)
//	path: Field | Relationship.Field (one level, through a lookup)
//	expr: term [OR term]...; term: factor [AND factor]...; factor: cond | (expr)
//	cond: path (= | != | < | <= | > | >=) literal | path [NOT] IN (literal, ...)
//	  | path LIKE 'pattern'
//	literal: 'text' (with \' \\ \n \t escapes) | number | true | false | null
//	  | dateTime (YYYY-MM-DDThh:mm:ss[.sss](Z|+hh:mm|-hh:mm), unquoted)
//
// SOQL's documentation lists dateTime literals without fractions of a
// second; queries with them are observed to run (a public IDE bug
// report), and SystemModstamp keeps milliseconds, so the emulator takes
// them.
//
// Names are case-insensitive, as in Salesforce. LIKE is on text fields:
// % matches any characters, _ one, \% and \_ (escapes of LIKE only) a
// percent sign and an underscore; it ignores case as = does.

type soqlQuery struct {
	object *object
	fields []soqlPath
	// subRel is the child relationship a sub-query selects from.
	subRel *child
	// subs are the sub-queries of child relationships in the SELECT list.
	subs  []soqlSub
	where soqlExpr
	order []soqlOrder
	limit int
	// all: queryAll, which returns the recycle bin's records too.
	all bool
}

// soqlSub is "(SELECT path, ... FROM ChildRelationship)".
type soqlSub struct {
	rel   *child
	query *soqlQuery
}

// soqlExpr is a WHERE clause: conditions joined by AND and OR, grouped by
// parentheses.
type soqlExpr interface {
	match(t *tables, r Record) bool
}

type soqlAnd []soqlExpr

func (a soqlAnd) match(t *tables, r Record) bool {
	for _, e := range a {
		if !e.match(t, r) {
			return false
		}
	}
	return true
}

type soqlOr []soqlExpr

func (o soqlOr) match(t *tables, r Record) bool {
	for _, e := range o {
		if e.match(t, r) {
			return true
		}
	}
	return false
}

type soqlPath struct {
	rel   *field // the lookup, nil for a field of the object itself
	field *field
}

type soqlCond struct {
	path   soqlPath
	op     string // =, !=, <, <=, >, >=, IN, NOT IN, LIKE
	values []any  // string, bool, decimal.Decimal, nil
	// like is LIKE's pattern.
	like *regexp.Regexp
}

type soqlOrder struct {
	path soqlPath
	desc bool
}

// soqlError is a query's refusal: MALFORMED_QUERY, INVALID_TYPE or
// INVALID_FIELD.
func soqlError(code, format string, args ...any) *dmlError {
	return dmlErr(code, fmt.Sprintf(format, args...))
}

type tokenizer struct {
	s   string
	pos int
}

type token struct {
	kind string // ident, string, number, punct, eof
	text string
	// raw is a string's text between its quotes, escapes as written;
	// likeOnly says it holds \% or \_, which only LIKE takes.
	raw      string
	likeOnly bool
}

func (t *tokenizer) next() (token, *dmlError) {
	for t.pos < len(t.s) && unicode.IsSpace(rune(t.s[t.pos])) {
		t.pos++
	}
	if t.pos >= len(t.s) {
		return token{kind: "eof"}, nil
	}
	c := t.s[t.pos]
	switch {
	case c == '\'':
		var b strings.Builder
		likeOnly := false
		for i := t.pos + 1; i < len(t.s); i++ {
			switch t.s[i] {
			case '\\':
				if i+1 >= len(t.s) {
					return token{}, soqlError("MALFORMED_QUERY", "unterminated string")
				}
				i++
				switch e := t.s[i]; e {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				case 'r':
					b.WriteByte('\r')
				case '\'', '\\', '"':
					b.WriteByte(e)
				case '%', '_':
					likeOnly = true
					b.WriteByte(e)
				default:
					return token{}, soqlError("MALFORMED_QUERY", "Invalid string literal: illegal escape sequence \\%c", e)
				}
			case '\'':
				raw := t.s[t.pos+1 : i]
				t.pos = i + 1
				return token{kind: "string", text: b.String(), raw: raw, likeOnly: likeOnly}, nil
			default:
				b.WriteByte(t.s[i])
			}
		}
		return token{}, soqlError("MALFORMED_QUERY", "unterminated string")
	case c == '_' || unicode.IsLetter(rune(c)):
		start := t.pos
		for t.pos < len(t.s) && (t.s[t.pos] == '_' || t.s[t.pos] == '.' || unicode.IsLetter(rune(t.s[t.pos])) || unicode.IsDigit(rune(t.s[t.pos]))) {
			t.pos++
		}
		return token{kind: "ident", text: t.s[start:t.pos]}, nil
	case c >= '0' && c <= '9' && dateTimeLiteral.MatchString(t.s[t.pos:]):
		m := dateTimeLiteral.FindString(t.s[t.pos:])
		t.pos += len(m)
		return token{kind: "datetime", text: m}, nil
	case c == '-' || c >= '0' && c <= '9':
		start := t.pos
		t.pos++
		for t.pos < len(t.s) && (t.s[t.pos] == '.' || t.s[t.pos] >= '0' && t.s[t.pos] <= '9') {
			t.pos++
		}
		return token{kind: "number", text: t.s[start:t.pos]}, nil
	}
	for _, p := range []string{"!=", "<>", "<=", ">=", "=", "<", ">", "(", ")", ","} {
		if strings.HasPrefix(t.s[t.pos:], p) {
			t.pos += len(p)
			return token{kind: "punct", text: p}, nil
		}
	}
	return token{}, soqlError("MALFORMED_QUERY", "unexpected character %q", c)
}

// dateTimeLiteral is an unquoted dateTime at the start of the text.
var dateTimeLiteral = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,3})?(?:Z|[+-][0-9]{2}:[0-9]{2})`)

// parseSOQL parses q against the org's objects and fields.
func (d *orgDB) parseSOQL(q string) (*soqlQuery, *dmlError) {
	var toks []token
	tz := &tokenizer{s: q}
	for {
		tk, err := tz.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, tk)
		if tk.kind == "eof" {
			break
		}
	}
	p := &parser{toks: toks}
	sq, err := d.selectQuery(p, nil)
	if err != nil {
		return nil, err
	}
	if tk := p.peek(); tk.kind != "eof" {
		// Real SOQL has more (functions, GROUP BY, semi-joins): outside
		// the emulator's subset, and so refused rather than misread.
		return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s' (the emulator's SOQL subset ends here)", tk.text)
	}
	return sq, nil
}

// selectQuery parses a SELECT; parent is the object whose child
// relationship a sub-query's FROM names (nil for the query itself).
func (d *orgDB) selectQuery(p *parser, parent *object) (*soqlQuery, *dmlError) {
	if !p.keyword("SELECT") {
		return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", p.peek().text)
	}
	var names []string
	var subs []*parser
	for {
		tk := p.take()
		switch {
		case tk.kind == "punct" && tk.text == "(" && parent == nil:
			// A sub-query: parsed once FROM names the parent object.
			start := p.i
			depth := 1
			for depth > 0 {
				t := p.take()
				switch {
				case t.kind == "eof":
					return nil, soqlError("MALFORMED_QUERY", "unterminated sub-query")
				case t.text == "(" && t.kind == "punct":
					depth++
				case t.text == ")" && t.kind == "punct":
					depth--
				}
			}
			sub := append(append([]token{}, p.toks[start:p.i-1]...), token{kind: "eof"})
			subs = append(subs, &parser{toks: sub})
		case tk.kind == "ident":
			names = append(names, tk.text)
		default:
			return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", tk.text)
		}
		if p.peek().text != "," {
			break
		}
		p.take()
	}
	if !p.keyword("FROM") {
		return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", p.peek().text)
	}
	objName := p.take()
	var o *object
	var rel *child
	if parent != nil {
		if rel = parent.child(objName.text); rel != nil {
			o = lookupObject(rel.Object)
		}
		if o == nil || !d.visible(o) {
			return nil, soqlError("INVALID_TYPE", "Didn't understand relationship '%s' in FROM part of query call. If you are attempting to use a "+
				"custom relationship, be sure to append the '__r' after the custom relationship name.", objName.text)
		}
	} else {
		o = lookupObject(objName.text)
		if objName.kind != "ident" || !d.visible(o) {
			return nil, soqlError("INVALID_TYPE", "sObject type '%s' is not supported. If you are attempting to use a custom object, "+
				"be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", objName.text)
		}
	}
	sq := &soqlQuery{object: o}
	for _, n := range names {
		path, err := d.path(o, n)
		if err != nil {
			return nil, err
		}
		sq.fields = append(sq.fields, path)
	}
	for _, sp := range subs {
		sub, err := d.selectQuery(sp, o)
		if err != nil {
			return nil, err
		}
		if tk := sp.peek(); tk.kind != "eof" {
			return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s' (the emulator's SOQL subset ends here)", tk.text)
		}
		sq.subs = append(sq.subs, soqlSub{rel: sub.subRel, query: sub})
	}
	if p.keyword("WHERE") {
		e, err := d.expr(p, o)
		if err != nil {
			return nil, err
		}
		sq.where = e
	}
	if p.keyword("ORDER") {
		if !p.keyword("BY") {
			return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", p.peek().text)
		}
		for {
			tk := p.take()
			path, err := d.path(o, tk.text)
			if err != nil {
				return nil, err
			}
			ord := soqlOrder{path: path}
			if p.keyword("DESC") {
				ord.desc = true
			} else {
				p.keyword("ASC")
			}
			sq.order = append(sq.order, ord)
			if p.peek().text != "," {
				break
			}
			p.take()
		}
	}
	if p.keyword("LIMIT") {
		tk := p.take()
		n, err := decimal.NewFromString(tk.text)
		if tk.kind != "number" || err != nil || !n.IsInteger() || n.IsNegative() {
			return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", tk.text)
		}
		sq.limit = int(n.IntPart())
	}
	if rel != nil {
		sq.subRel = rel
	}
	return sq, nil
}

// expr parses conditions joined by AND, or by OR, grouped by parentheses.
// SOQL wants parentheses where AND and OR meet ("a AND b OR c" is
// refused), and so does the emulator.
func (d *orgDB) expr(p *parser, o *object) (soqlExpr, *dmlError) {
	var or soqlOr
	for {
		var and soqlAnd
		for {
			var f soqlExpr
			if tk := p.peek(); tk.kind == "punct" && tk.text == "(" {
				p.take()
				e, err := d.expr(p, o)
				if err != nil {
					return nil, err
				}
				if p.take().text != ")" {
					return nil, soqlError("MALFORMED_QUERY", "unbalanced parentheses")
				}
				f = e
			} else {
				c, err := d.cond(p, o)
				if err != nil {
					return nil, err
				}
				f = c
			}
			and = append(and, f)
			if !p.keyword("AND") {
				break
			}
		}
		or = append(or, and)
		if !p.keyword("OR") {
			break
		}
	}
	if len(or) > 1 {
		for _, a := range or {
			if len(a.(soqlAnd)) > 1 {
				return nil, soqlError("MALFORMED_QUERY", "unexpected token: 'OR' (AND and OR together need parentheses)")
			}
		}
	}
	return or, nil
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != "eof" {
		p.i++
	}
	return t
}

func (p *parser) keyword(k string) bool {
	if t := p.peek(); t.kind == "ident" && strings.EqualFold(t.text, k) {
		p.i++
		return true
	}
	return false
}

func (d *orgDB) path(o *object, name string) (soqlPath, *dmlError) {
	relName, fieldName, dotted := strings.Cut(name, ".")
	noColumn := func(entity, col string) *dmlError {
		return soqlError("INVALID_FIELD", "No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to "+
			"append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.", col, entity)
	}
	if !dotted {
		f := d.field(o, name)
		if !d.has(f) {
			return soqlPath{}, noColumn(o.Name, name)
		}
		return soqlPath{field: f}, nil
	}
	rel := o.relation(relName)
	if rel == nil || !d.has(rel) || strings.Contains(fieldName, ".") {
		return soqlPath{}, soqlError("INVALID_FIELD", "Didn't understand relationship '%s' in field path. If you are attempting to use a "+
			"custom relationship, be sure to append the '__r' after the custom relationship name.", relName)
	}
	target := lookupObject(rel.Ref)
	f := target.field(fieldName)
	if !d.visible(target) || !d.has(f) {
		return soqlPath{}, noColumn(target.Name, fieldName)
	}
	return soqlPath{rel: rel, field: f}, nil
}

func (d *orgDB) cond(p *parser, o *object) (soqlCond, *dmlError) {
	tk := p.take()
	if tk.kind != "ident" {
		return soqlCond{}, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", tk.text)
	}
	path, err := d.path(o, tk.text)
	if err != nil {
		return soqlCond{}, err
	}
	c := soqlCond{path: path}
	switch {
	case p.keyword("NOT"):
		if !p.keyword("IN") {
			return soqlCond{}, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", p.peek().text)
		}
		c.op = "NOT IN"
	case p.keyword("IN"):
		c.op = "IN"
	case p.keyword("LIKE"):
		tk := p.take()
		if tk.kind != "string" {
			return soqlCond{}, soqlError("MALFORMED_QUERY", "unexpected token: '%s' (LIKE takes a quoted pattern)", tk.text)
		}
		if t := path.field.Type; t == tBool || t == tCurrency || t == tDouble || t == tPercent || t == tInt || t == tDate || t == tDateTime {
			return soqlCond{}, soqlError("INVALID_FIELD", "invalid operator on %s field: %s", typeName(path.field), path.field.Name)
		}
		c.op, c.like = "LIKE", likePattern(tk.raw)
		return c, nil
	default:
		op := p.take()
		if op.kind != "punct" || op.text == "(" || op.text == ")" || op.text == "," {
			return soqlCond{}, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", op.text)
		}
		c.op = op.text
		if c.op == "<>" {
			c.op = "!="
		}
		v, err := literal(p.take(), path.field)
		if err != nil {
			return soqlCond{}, err
		}
		c.values = []any{v}
		return c, nil
	}
	if p.take().text != "(" {
		return soqlCond{}, soqlError("MALFORMED_QUERY", "IN needs a list in parentheses")
	}
	for {
		v, err := literal(p.take(), path.field)
		if err != nil {
			return soqlCond{}, err
		}
		c.values = append(c.values, v)
		sep := p.take()
		if sep.text == ")" {
			return c, nil
		}
		if sep.text != "," {
			return soqlCond{}, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", sep.text)
		}
	}
}

// likePattern is LIKE's pattern, as written between its quotes, as a
// regular expression that ignores case.
func likePattern(raw string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?is)^")
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			i++
			lit := string(raw[i])
			switch raw[i] {
			case 'n':
				lit = "\n"
			case 't':
				lit = "\t"
			case 'r':
				lit = "\r"
			}
			b.WriteString(regexp.QuoteMeta(lit))
		case c == '%':
			b.WriteString(".*")
		case c == '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func literal(tk token, f *field) (any, *dmlError) {
	if tk.likeOnly {
		return nil, soqlError("MALFORMED_QUERY", "Invalid string literal: \\%% and \\_ are escapes of LIKE only")
	}
	if f.Type == tDateTime && !(tk.kind == "ident" && strings.EqualFold(tk.text, "null")) {
		if tk.kind != "datetime" {
			return nil, soqlError("INVALID_FIELD", "value of filter criterion for field '%s' must be of type dateTime and should not be enclosed in quotes", f.Name)
		}
		tm, err := time.Parse("2006-01-02T15:04:05.999Z07:00", tk.text)
		if err != nil {
			return nil, soqlError("MALFORMED_QUERY", "line 1:%d no viable alternative at character '%s'", 0, tk.text)
		}
		return tm.UTC(), nil
	}
	if tk.kind == "datetime" {
		return nil, soqlError("INVALID_FIELD", "value of filter criterion for field '%s' must be of type %s", f.Name, typeName(f))
	}
	switch {
	case tk.kind == "string":
		if f.Type == tBool || f.Type == tCurrency || f.Type == tDouble || f.Type == tPercent {
			return nil, soqlError("INVALID_FIELD", "value of filter criterion for field '%s' must be of type %s and should not be enclosed in quotes", f.Name, typeName(f))
		}
		return tk.text, nil
	case tk.kind == "number":
		n, err := decimal.NewFromString(tk.text)
		if err != nil {
			return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", tk.text)
		}
		return n, nil
	case tk.kind == "ident" && strings.EqualFold(tk.text, "true"):
		return true, nil
	case tk.kind == "ident" && strings.EqualFold(tk.text, "false"):
		return false, nil
	case tk.kind == "ident" && strings.EqualFold(tk.text, "null"):
		return nil, nil
	}
	return nil, soqlError("MALFORMED_QUERY", "unexpected token: '%s'", tk.text)
}

func typeName(f *field) string {
	switch f.Type {
	case tBool:
		return "boolean"
	case tCurrency, tDouble, tPercent:
		return "double"
	}
	return "string"
}

// get reads a path on a record: nil when the lookup is empty.
func (p soqlPath) get(t *tables, r Record) any {
	if p.rel == nil {
		return r[p.field.Name]
	}
	target := t.get(lookupObject(p.rel.Ref), r.String(p.rel.Name))
	if target == nil {
		return nil
	}
	return target[p.field.Name]
}

// compare orders two field values: nil first, then by type.
func compare(a, b any) int {
	switch x := a.(type) {
	case nil:
		if b == nil {
			return 0
		}
		return -1
	case string:
		y, ok := b.(string)
		if !ok {
			return 1
		}
		return strings.Compare(x, y)
	case bool:
		y, ok := b.(bool)
		switch {
		case !ok:
			return 1
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case decimal.Decimal:
		y, ok := b.(decimal.Decimal)
		if !ok {
			return 1
		}
		return x.Cmp(y)
	case time.Time:
		y, ok := b.(time.Time)
		if !ok {
			return 1
		}
		return x.Compare(y)
	}
	return 0
}

// equal compares as SOQL's = does: text case-insensitively, except for a
// case-sensitive unique External ID, which is matched exactly.
func equal(f *field, a, b any) bool {
	x, ok1 := a.(string)
	y, ok2 := b.(string)
	if ok1 && ok2 && !f.CaseSensitive && f.Type != tID && f.Type != tRef {
		return strings.EqualFold(x, y)
	}
	if f.Type == tID || f.Type == tRef {
		// Ids compare in their 18-character form; a 15-character one in a
		// filter names the same record.
		if ok1 && ok2 && len(y) == 15 && len(x) == 18 {
			return x[:15] == y
		}
	}
	return compare(a, b) == 0
}

func (c soqlCond) match(t *tables, r Record) bool {
	v := c.path.get(t, r)
	if v == "" {
		v = nil
	}
	switch c.op {
	case "=":
		return equal(c.path.field, v, c.values[0])
	case "!=":
		return !equal(c.path.field, v, c.values[0])
	case "IN", "NOT IN":
		in := slices.ContainsFunc(c.values, func(x any) bool { return equal(c.path.field, v, x) })
		return in == (c.op == "IN")
	case "LIKE":
		str, ok := v.(string)
		return ok && c.like.MatchString(str)
	}
	if v == nil || c.values[0] == nil {
		return false
	}
	n := compare(v, c.values[0])
	switch c.op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	}
	return n >= 0
}

// run evaluates the query and returns its rows as the REST API writes
// them, with their attributes.
func (sq *soqlQuery) run(t *tables, version string, binSince time.Time) []map[string]any {
	return sq.runOn(t, version, binSince, t.all(sq.object))
}

// runOn evaluates the query on the records given (a sub-query's: the
// parent's children); queryAll adds the recycle bin's, deleted at or
// after binSince.
func (sq *soqlQuery) runOn(t *tables, version string, binSince time.Time, records []Record) []map[string]any {
	if sq.all && sq.subRel == nil {
		records = append(slices.Clone(records), t.binned(sq.object, binSince)...)
	}
	var matched []Record
	for _, r := range records {
		if sq.where == nil || sq.where.match(t, r) {
			matched = append(matched, r)
		}
	}
	if len(sq.order) > 0 {
		slices.SortStableFunc(matched, func(a, b Record) int {
			for _, o := range sq.order {
				n := compare(o.path.get(t, a), o.path.get(t, b))
				if o.desc {
					n = -n
				}
				if n != 0 {
					return n
				}
			}
			return 0
		})
	}
	if sq.limit > 0 && len(matched) > sq.limit {
		matched = matched[:sq.limit]
	}
	rows := make([]map[string]any, 0, len(matched))
	for _, r := range matched {
		row := map[string]any{"attributes": attributes(sq.object.Name, r.String("Id"), version)}
		for _, p := range sq.fields {
			if p.rel == nil {
				row[p.field.Name] = jsonValue(r[p.field.Name])
				continue
			}
			target := lookupObject(p.rel.Ref)
			parent := t.get(target, r.String(p.rel.Name))
			if parent == nil {
				row[p.rel.Rel] = nil
				continue
			}
			sub, _ := row[p.rel.Rel].(map[string]any)
			if sub == nil {
				sub = map[string]any{"attributes": attributes(target.Name, parent.String("Id"), version)}
				row[p.rel.Rel] = sub
			}
			sub[p.field.Name] = jsonValue(parent[p.field.Name])
		}
		for _, sub := range sq.subs {
			// A child relationship's records: null when there are none,
			// else a query answer of their own.
			kids := sub.query.runOn(t, version, binSince, t.where(sub.query.object, sub.rel.Field, r.String("Id")))
			if len(kids) == 0 {
				row[sub.rel.Name] = nil
				continue
			}
			row[sub.rel.Name] = map[string]any{"totalSize": len(kids), "done": true, "records": kids}
		}
		rows = append(rows, row)
	}
	return rows
}

func attributes(object, id, version string) map[string]any {
	return map[string]any{"type": object, "url": "/services/data/" + version + "/sobjects/" + object + "/" + id}
}
