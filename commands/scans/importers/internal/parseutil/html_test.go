package parseutil

import (
	"slices"
	"strings"
	"testing"
)

func TestLinks(t *testing.T) {
	got := Links(`<ul><li><a target='_blank' href='https://a.example/x'>A</a></li><li><A HREF="http://b.example/">B</A></li><li><a href="https://a.example/x">again</a></li></ul>`)
	if !slices.Equal(got, []string{"https://a.example/x", "http://b.example/"}) {
		t.Errorf("Links = %q", got)
	}
}

func TestPlainParagraphs(t *testing.T) {
	if got := PlainParagraphs("<p>One &amp; two</p>", "", "  ", "<div>Three</div>"); got != "One & two\n\nThree" {
		t.Errorf("PlainParagraphs = %q", got)
	}
	if got := PlainParagraphs(strings.Repeat("x", MaxField+10)); len(got) > MaxField || !strings.HasSuffix(got, TruncMark) {
		t.Errorf("not cut at MaxField: %d bytes", len(got))
	}
}

func TestExchange(t *testing.T) {
	if got := Exchange(" lead ", "GET / HTTP/1.1", ""); got != "lead\n\nRequest:\nGET / HTTP/1.1" {
		t.Errorf("Exchange = %q", got)
	}
	got := Exchange("", strings.Repeat("a", 3*MaxDump), strings.Repeat("b", 3*MaxDump))
	req, resp, _ := strings.Cut(got, "\n\nResponse:\n")
	if len(req) > len("Request:\n")+MaxDump || len(resp) > MaxDump || !strings.HasSuffix(resp, TruncMark) {
		t.Errorf("request %d, response %d bytes", len(req), len(resp))
	}
}
