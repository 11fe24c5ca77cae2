package query

import (
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Parse reads q (the grammar is in the package comment) into a Query. Its errors are
// *ParseError, with Pos the byte offset in q of the offending part.
//
// # Field or free text
//
// A word "name:rest" is a field operator when name (case-insensitive, letters only) is one of
// Fields or Aliases. Analysts also paste words with a colon that are not operators, so such a
// word is free text when
//   - the part before its first ':' is not letters only (10.0.0.1:8080, CVE-2021-44228:, :-)),
//   - it is an IP literal (fe80::1, cafe::/16: a hex word before the colon is not a field),
//   - the colon starts "://" (http://x, ftp://host),
//   - it is a package URL (pkg:npm/lodash@4.17.21: "pkg" followed by a type and a "/"),
//   - or name is no field and the rest starts with '/' or '\' (C:\Windows, C:/tmp) or holds
//     another ':' (MAC addresses aa:bb:cc:dd:ee:ff, urn:a:b, time:12:30).
//
// Otherwise a name that is no field is a misspelt field when it is close to one (a prefix of
// exactly one field's spellings, at least 3 letters long, or within a Damerau-Levenshtein
// distance of 2 of a spelling, 1 for names of up to 4 letters): that is a *ParseError with the
// field in Suggestion ("sevrity:critical", "sev:high", "hsot:db"). A name close to no field
// leaves the word free text (note:, re:, user:alice, port:443).
//
// # Keywords
//
// There are no boolean operators: clauses are always ANDed. An upper-case AND between clauses
// is accepted and ignored (it says what happens anyway; "&&" is dropped as a word without
// letters or numbers). An upper-case OR (or "||") and NOT are rejected with a *ParseError whose
// Suggestion is the query meant where one can be written (a comma list for OR, a leading "-"
// for NOT): silently ANDing them would answer a different question than the analyst asked.
// To search for the words themselves, quote them ("OR") or write them in lower case.
//
// # Values
//
// A field's values are checked and normalised: type (finding, asset, cve, event; plurals
// accepted), severity (critical, high, medium, low, info) and kev (true, false) lower case;
// CVE ids upper case (CVE-2021-44228); CWE ids as CWE-79 (79 accepted); ip an address or CIDR
// range in canonical form (netip; a range masked, an IPv4-mapped address as IPv4); cvss (0 to
// 10) and epss (0 to 1) numbers as written, after an optional comparison, which no other field
// takes. Other fields' values are kept as typed. Free-text words and phrases without a letter
// or number ("--", "&&", `"..."`) match everything and are dropped.
func Parse(q string) (Query, error) {
	if len(q) > MaxLength {
		return Query{}, &ParseError{Pos: MaxLength, Msg: fmt.Sprintf("query longer than %d bytes", MaxLength)}
	}
	for i := 0; i < len(q); {
		r, n := utf8.DecodeRuneInString(q[i:])
		if r == utf8.RuneError && n <= 1 {
			return Query{}, &ParseError{Pos: i, Msg: "query is not valid UTF-8"}
		}
		i += n
	}
	p := parser{q: q}
	var out Query
	for {
		p.skipSpace()
		if p.eof() {
			return out, nil
		}
		start := p.pos
		switch p.bareWord() {
		case "AND":
			p.pos += len("AND")
			continue
		case "OR", "||":
			return Query{}, p.orError(out.Clauses)
		case "NOT":
			return Query{}, p.notError()
		}
		c, ok, err := p.clause()
		if err != nil {
			return Query{}, err
		}
		if !ok {
			continue
		}
		if len(out.Clauses) == MaxClauses {
			return Query{}, &ParseError{Pos: start, Msg: fmt.Sprintf("more than %d clauses", MaxClauses)}
		}
		out.Clauses = append(out.Clauses, c)
	}
}

type parser struct {
	q   string
	pos int
}

func (p *parser) eof() bool { return p.pos >= len(p.q) }

// spaceAt reports whether a white-space rune starts at i.
func (p *parser) spaceAt(i int) bool {
	r, _ := utf8.DecodeRuneInString(p.q[i:])
	return unicode.IsSpace(r)
}

func (p *parser) skipSpace() {
	for !p.eof() && p.spaceAt(p.pos) {
		_, n := utf8.DecodeRuneInString(p.q[p.pos:])
		p.pos += n
	}
}

// wordEnd is the end of the word starting at i: the next white space or '"' (or, in a field's
// list, ',').
func (p *parser) wordEnd(i int, list bool) int {
	for i < len(p.q) {
		if c := p.q[i]; c == '"' || list && c == ',' || p.spaceAt(i) {
			break
		}
		_, n := utf8.DecodeRuneInString(p.q[i:])
		i += n
	}
	return i
}

// bareWord is the word at the current position, without consuming it.
func (p *parser) bareWord() string { return p.q[p.pos:p.wordEnd(p.pos, false)] }

// clause reads one clause at the current position (not white space). ok is false for what
// adds no clause: a lone "-", a free-text word or phrase without a letter or digit.
func (p *parser) clause() (c Clause, ok bool, err error) {
	c.Pos = p.pos
	if p.q[p.pos] == '-' {
		c.Negate = true
		p.pos++
		if p.eof() || p.spaceAt(p.pos) {
			return c, false, nil
		}
	}
	if p.q[p.pos] == '"' {
		v, err := p.phrase()
		if err != nil {
			return c, false, err
		}
		c.Values, c.Phrase = []string{v}, true
		return c, hasToken(v), nil
	}
	start := p.pos
	end := p.wordEnd(start, false)
	word := p.q[start:end]
	f, isField, err := classify(word, start)
	if err != nil {
		return c, false, err
	}
	if !isField {
		p.pos = end
		c.Values = []string{word}
		return c, hasToken(word), nil
	}
	c.Field = f
	p.pos = start + strings.IndexByte(word, ':') + 1
	c.Op, c.Values, err = p.values(f)
	return c, err == nil, err
}

// classify tells a field operator from a free-text word (see Parse); word starts at pos in q.
func classify(word string, pos int) (f Field, isField bool, err error) {
	i := strings.IndexByte(word, ':')
	if i <= 0 || !asciiLetters(word[:i]) {
		return "", false, nil
	}
	name, rest := strings.ToLower(word[:i]), word[i+1:]
	if strings.HasPrefix(rest, "//") || isIPLiteral(word) {
		return "", false, nil
	}
	if f, ok := fieldNamed(name); ok {
		if name == "pkg" && isPURLTail(rest) {
			return "", false, nil
		}
		return f, true, nil
	}
	if strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, `\`) || strings.Contains(rest, ":") {
		return "", false, nil
	}
	if s := suggest(name, fieldSpellings); s != "" {
		return "", false, &ParseError{Pos: pos, Msg: fmt.Sprintf("unknown field %q", word[:i]), Suggestion: s}
	}
	return "", false, nil
}

// fieldSpellings maps every accepted spelling of a field name to the field.
var fieldSpellings = func() map[string]string {
	m := make(map[string]string, len(Fields)+len(Aliases))
	for _, f := range Fields {
		m[string(f)] = string(f)
	}
	for a, f := range Aliases {
		m[a] = string(f)
	}
	return m
}()

// fieldNamed resolves a lower-case field name or alias.
func fieldNamed(name string) (Field, bool) {
	f, ok := fieldSpellings[name]
	return Field(f), ok
}

func asciiLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// isIPLiteral reports whether word is an IP address or CIDR range (IPv6 literals are full of
// colons, and "cafe::1" begins with letters).
func isIPLiteral(word string) bool {
	if _, err := netip.ParseAddr(word); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(word)
	return err == nil
}

// isPURLTail reports whether rest (after "pkg:") is a package URL's "type/…": the type is a
// letter followed by letters, digits, '.', '+' or '-'.
func isPURLTail(rest string) bool {
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 || !isASCIILetter(rest[0]) {
		return false
	}
	for i := 1; i < slash; i++ {
		if c := rest[i]; !isASCIILetter(c) && (c < '0' || c > '9') && c != '.' && c != '+' && c != '-' {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool { c |= 0x20; return c >= 'a' && c <= 'z' }

// values reads a field's value list at the current position (just after the ':').
func (p *parser) values(f Field) (op Op, values []string, err error) {
	if !p.eof() && (p.q[p.pos] == '<' || p.q[p.pos] == '>') {
		at := p.pos
		op = Op(p.q[p.pos : p.pos+1])
		p.pos++
		if !p.eof() && p.q[p.pos] == '=' {
			op += "="
			p.pos++
		}
		if f != FieldCVSS && f != FieldEPSS {
			return "", nil, &ParseError{Pos: at, Msg: fmt.Sprintf("%s: comparison %s only applies to %s and %s", f, op, FieldCVSS, FieldEPSS)}
		}
	}
	for {
		at := p.pos
		var v string
		switch {
		case p.eof() || p.spaceAt(p.pos) || p.q[p.pos] == ',':
			return "", nil, &ParseError{Pos: at, Msg: fmt.Sprintf("%s: missing value", f)}
		case p.q[p.pos] == '"':
			if v, err = p.phrase(); err != nil {
				return "", nil, err
			}
			if v == "" {
				return "", nil, &ParseError{Pos: at, Msg: fmt.Sprintf("%s: missing value", f)}
			}
		default:
			end := p.wordEnd(p.pos, true)
			v, p.pos = p.q[p.pos:end], end
		}
		if len(values) == MaxValues {
			return "", nil, &ParseError{Pos: at, Msg: fmt.Sprintf("%s: more than %d values", f, MaxValues)}
		}
		if v, err = normalise(f, v, at); err != nil {
			return "", nil, err
		}
		values = append(values, v)
		if p.eof() || p.q[p.pos] != ',' {
			return op, values, nil
		}
		p.pos++
	}
}

// phrase reads a quoted phrase at the current position (its opening '"'), unescaping \" and
// \\ (any other backslash is itself: "C:\temp").
func (p *parser) phrase() (string, error) {
	open := p.pos
	var b strings.Builder
	for i := open + 1; i < len(p.q); i++ {
		switch c := p.q[i]; {
		case c == '"':
			p.pos = i + 1
			return b.String(), nil
		case c == '\\' && i+1 < len(p.q) && (p.q[i+1] == '"' || p.q[i+1] == '\\'):
			b.WriteByte(p.q[i+1])
			i++
		default:
			b.WriteByte(c)
		}
	}
	return "", &ParseError{Pos: open, Msg: "unterminated quote"}
}

// hasToken reports whether s has a letter or a number (Unicode L or N, as the backends'
// tokenizers: ES's [^\p{L}\p{N}]+, FTS5's unicode61): text without one has no search tokens
// (search.Tokens) and would match every document.
func hasToken(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) >= 0
}

// orError is the error for an OR (or "||") at the current position, after the clauses before;
// it suggests the comma list meant when OR joins two values of one field.
func (p *parser) orError(before []Clause) error {
	e := &ParseError{Pos: p.pos, Msg: "OR is not an operator (clauses are ANDed): list a field's alternatives with commas"}
	p.pos += len(p.bareWord())
	next, ok := p.nextClause()
	if n := len(before); ok && n > 0 {
		prev := before[n-1]
		if prev.Field != FieldText && prev.Field == next.Field && !prev.Negate && !next.Negate && prev.Op == next.Op {
			joined := Clause{Field: prev.Field, Op: prev.Op, Values: append(append([]string(nil), prev.Values...), next.Values...)}
			e.Suggestion = Query{Clauses: []Clause{joined}}.String()
		}
	}
	return e
}

// notError is the error for a NOT at the current position; it suggests the next clause negated.
func (p *parser) notError() error {
	e := &ParseError{Pos: p.pos, Msg: `NOT is not an operator: negate a clause with a leading "-"`}
	p.pos += len("NOT")
	if next, ok := p.nextClause(); ok && !next.Negate {
		next.Negate = true
		e.Suggestion = Query{Clauses: []Clause{next}}.String()
	}
	return e
}

// nextClause reads the clause after the white space at the current position, for a
// suggestion: ok is false when there is none or it does not parse.
func (p *parser) nextClause() (Clause, bool) {
	p.skipSpace()
	if p.eof() {
		return Clause{}, false
	}
	c, ok, err := p.clause()
	return c, ok && err == nil
}
