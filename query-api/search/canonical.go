package search

import (
	"strings"
	"unicode"

	"github.com/socplatform/soc/projections/search/query"
)

// Canonical writes a parsed query back as q: the clauses in order, field names as the
// language spells them, values as the parser normalised them, quoted where a bare word would
// read differently. Parsing it again gives the same query, so a client may show it, keep it
// or send it back.
func Canonical(q query.Query) string {
	parts := make([]string, 0, len(q.Clauses))
	for _, c := range q.Clauses {
		var b strings.Builder
		if c.Negate {
			b.WriteByte('-')
		}
		if c.Field != query.FieldText {
			b.WriteString(string(c.Field))
			b.WriteByte(':')
			b.WriteString(string(c.Op))
		}
		for i, v := range c.Values {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(quoted(v, c.Phrase || needsQuotes(v, c.Field)))
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, " ")
}

// needsQuotes reports whether v, written bare, would not read back as one value: empty, with
// whitespace or a quote, a comma after a field, a free-text word that looks like a field
// operator or a negation.
func needsQuotes(v string, f query.Field) bool {
	if v == "" || strings.ContainsRune(v, '"') || strings.IndexFunc(v, unicode.IsSpace) >= 0 {
		return true
	}
	if f != query.FieldText {
		return strings.ContainsRune(v, ',') || strings.ContainsAny(v[:1], "<>=")
	}
	return strings.HasPrefix(v, "-") || strings.ContainsRune(v, ':')
}

func quoted(v string, quote bool) string {
	if !quote {
		return v
	}
	return `"` + strings.ReplaceAll(v, `"`, `\"`) + `"`
}
