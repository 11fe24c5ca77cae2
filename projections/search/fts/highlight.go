package fts

import (
	"html"
	"strings"
	"unicode/utf8"
)

// Marks highlight() puts around a matched phrase: control characters, which ftsText has
// replaced by spaces, so they never occur in the indexed text itself.
const (
	markOpen  = '\x01'
	markClose = '\x02'
)

// Fragments of a long text: context bytes either side of a match, and at most maxFragments.
const (
	fragmentContext = 80
	maxFragments    = 3
	wholeText       = 2 * fragmentContext // a text this short is one fragment
)

// highlights maps "title" and "text" to their fragments with the matched words marked, for the
// fields that have a match (nil when neither has).
func highlights(title, hlTitle, text, hlText string) map[string][]string {
	out := map[string][]string{}
	if spans := markSpans(title, hlTitle); len(spans) > 0 {
		out["title"] = []string{render(title, spans, 0, len(title))}
	}
	if spans := markSpans(text, hlText); len(spans) > 0 {
		out["text"] = fragments(text, spans)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// markSpans reads highlight()'s output over ftsText(orig) back as byte ranges of orig (the two
// have the same length); nil when it does not line up with orig.
func markSpans(orig, hl string) [][2]int {
	var spans [][2]int
	pos, start := 0, -1
	for i := 0; i < len(hl); i++ {
		switch hl[i] {
		case markOpen:
			start = pos
		case markClose:
			if start >= 0 && pos > start {
				spans = append(spans, [2]int{start, pos})
			}
			start = -1
		default:
			pos++
		}
	}
	if pos != len(orig) {
		return nil
	}
	return spans
}

// fragments cuts a text around its marked spans: the whole text when short, otherwise up to
// maxFragments windows of context around the spans, merged where they overlap.
func fragments(text string, spans [][2]int) []string {
	if len(text) <= wholeText {
		return []string{render(text, spans, 0, len(text))}
	}
	var out []string
	for i := 0; i < len(spans) && len(out) < maxFragments; {
		from := runeStart(text, max(0, spans[i][0]-fragmentContext))
		to := runeStart(text, min(len(text), spans[i][1]+fragmentContext))
		j := i + 1
		for j < len(spans) && spans[j][0] < to {
			to = runeStart(text, min(len(text), max(to, spans[j][1]+fragmentContext)))
			j++
		}
		// Cut at white space where the window has some, not inside a word.
		if k := strings.IndexByte(text[from:spans[i][0]], ' '); from > 0 && k >= 0 {
			from += k + 1
		}
		if k := strings.LastIndexByte(text[spans[j-1][1]:to], ' '); to < len(text) && k >= 0 {
			to = spans[j-1][1] + k
		}
		out = append(out, render(text, spans[i:j], from, to))
		i = j
	}
	return out
}

// runeStart moves i back to the start of the rune it falls in.
func runeStart(s string, i int) int {
	for i > 0 && i < len(s) && !utf8.RuneStart(s[i]) {
		i--
	}
	return i
}

// render is s[from:to] HTML-escaped with the spans (inside it, in order) in <mark>…</mark>.
func render(s string, spans [][2]int, from, to int) string {
	var b strings.Builder
	at := from
	for _, sp := range spans {
		lo, hi := max(sp[0], from), min(sp[1], to)
		if lo >= hi {
			continue
		}
		b.WriteString(html.EscapeString(s[at:lo]))
		b.WriteString("<mark>" + html.EscapeString(s[lo:hi]) + "</mark>")
		at = hi
	}
	b.WriteString(html.EscapeString(s[at:to]))
	return strings.TrimSpace(b.String())
}
