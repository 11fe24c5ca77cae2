package query

import (
	"strings"
	"unicode"
)

// String renders q as canonical query text: clauses separated by one space, fields by their
// canonical names, values normalised and quoted only where they must be. For a Query that
// Parse returned, Parse(q.String()) returns q again, but for the clauses' Pos (offsets in the
// new text) — and it may fail on MaxLength only, when canonical names and values made the text
// longer than the q typed (env:x is environment:x). Clauses Parse would not produce are
// rendered as near as the grammar allows (a free-text clause's values as several words).
func (q Query) String() string {
	var b strings.Builder
	for i, c := range q.Clauses {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeClause(&b, c)
	}
	return b.String()
}

func writeClause(b *strings.Builder, c Clause) {
	if c.Field == FieldText {
		for i, v := range c.Values {
			if i > 0 {
				b.WriteByte(' ')
			}
			if c.Negate {
				b.WriteByte('-')
			}
			if c.Phrase || !plainWord(v, c.Negate) {
				writeQuoted(b, v)
			} else {
				b.WriteString(v)
			}
		}
		return
	}
	if c.Negate {
		b.WriteByte('-')
	}
	b.WriteString(string(c.Field))
	b.WriteByte(':')
	b.WriteString(string(c.Op))
	for i, v := range c.Values {
		if i > 0 {
			b.WriteByte(',')
		}
		if plainValue(v) {
			b.WriteString(v)
		} else {
			writeQuoted(b, v)
		}
	}
}

// plainWord reports whether free-text word v reads back unquoted as the same free-text word.
func plainWord(v string, negated bool) bool {
	switch {
	case v == "" || strings.ContainsFunc(v, func(r rune) bool { return r == '"' || unicode.IsSpace(r) }):
		return false
	case !negated && (v[0] == '-' || v == "AND" || v == "OR" || v == "NOT" || v == "||"):
		return false
	}
	_, isField, err := classify(v, 0)
	return !isField && err == nil
}

// plainValue reports whether a field's value v reads back unquoted as itself.
func plainValue(v string) bool {
	return v != "" && v[0] != '<' && v[0] != '>' && !strings.HasPrefix(v, "//") &&
		!strings.ContainsFunc(v, func(r rune) bool { return r == '"' || r == ',' || unicode.IsSpace(r) })
}

func writeQuoted(b *strings.Builder, v string) {
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
}
