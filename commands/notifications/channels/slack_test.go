package channels

import (
	"strings"
	"testing"
)

func TestSplitTextKeepsEntities(t *testing.T) {
	s := EscapeMrkdwn(strings.Repeat("a", 2998) + "<b>")
	for _, piece := range splitText(s, 3000) {
		if strings.HasSuffix(piece, "&l") || strings.HasSuffix(piece, "&lt") || strings.HasSuffix(piece, "&") {
			t.Fatalf("entity cut: ...%q", piece[len(piece)-5:])
		}
		if len([]rune(piece)) > 3000 {
			t.Fatal("piece too long")
		}
	}
	if strings.Join(splitText(s, 3000), "") != s {
		t.Fatal("splitText lost text")
	}
}
