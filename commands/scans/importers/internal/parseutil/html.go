package parseutil

import (
	"html"
	"regexp"
	"strings"
)

// PlainText drops HTML tags (block tags become line breaks), decodes entities, trims lines and
// keeps at most one blank line in a row. It is linear in the input. The DAST
// parsers (zap, burp, acunetix) write their descriptions in HTML.
func PlainText(v string) string {
	if strings.IndexByte(v, '<') >= 0 {
		var b strings.Builder
		b.Grow(len(v))
		for i := 0; i < len(v); {
			if v[i] == '<' && i+1 < len(v) && (isLetter(v[i+1]) || v[i+1] == '/' || v[i+1] == '!') {
				if end := strings.IndexAny(v[i+1:], "<>"); end >= 0 && v[i+1+end] == '>' {
					if isBlockTag(v[i+1 : i+1+end]) {
						b.WriteByte('\n')
					}
					i += end + 2
					continue
				}
			}
			b.WriteByte(v[i])
			i++
		}
		v = b.String()
	}
	if strings.IndexByte(v, '&') >= 0 {
		v = html.UnescapeString(v)
	}
	var out strings.Builder
	blank := 0
	for _, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank++
			continue
		}
		if out.Len() > 0 {
			out.WriteString("\n")
			if blank > 0 {
				out.WriteString("\n")
			}
		}
		blank = 0
		out.WriteString(line)
	}
	return out.String()
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isBlockTag reports whether the inside of a tag ("p", "/p", "br/", "li class=x") is a block tag.
func isBlockTag(t string) bool {
	t = strings.TrimPrefix(t, "/")
	n := 0
	for n < len(t) && (isLetter(t[n]) || (n > 0 && t[n] >= '0' && t[n] <= '9')) {
		n++
	}
	switch strings.ToLower(t[:n]) {
	case "p", "br", "li", "ul", "ol", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6":
		return true
	}
	return false
}

var reHref = regexp.MustCompile(`(?i)href\s*=\s*["']([^"'<>\s]+)["']`)

// Links are the href targets of the HTML fragment v, each cut at MaxShort: the reference
// lists of the DAST reports (Burp references, Acunetix 360 remedy references) are HTML.
func Links(v string) []string {
	var out []string
	for _, m := range reHref.FindAllStringSubmatch(v, -1) {
		out = AddUnique(out, Truncate(m[1], MaxShort))
	}
	return out
}

// PlainParagraphs is the plain text of each HTML part that has any, joined by blank lines and
// cut at MaxField: DAST reports split a description into background, detail and impact.
func PlainParagraphs(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = PlainText(p); p != "" {
			out = append(out, p)
		}
	}
	return Truncate(strings.Join(out, "\n\n"), MaxField)
}

// MaxDump is how much of an HTTP request or of a response Exchange keeps: enough for the
// request line, the headers and the start of a body, never a whole download.
const MaxDump = 16 << 10

// Exchange is the evidence of a DAST finding: lead (the scanner's own words, may be empty),
// then the request and the response, each cut at MaxDump and left out when empty; at most
// MaxEvidence in all.
func Exchange(lead, request, response string) string {
	var parts []string
	if lead = strings.TrimSpace(lead); lead != "" {
		parts = append(parts, lead)
	}
	for _, d := range [][2]string{{"Request", request}, {"Response", response}} {
		if v := strings.TrimSpace(d[1]); v != "" {
			parts = append(parts, d[0]+":\n"+Truncate(v, MaxDump))
		}
	}
	return Truncate(strings.Join(parts, "\n\n"), MaxEvidence)
}
