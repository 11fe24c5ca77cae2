package jsonwalk

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
)

// TestSkip: the walker and TopKeys skip nested values whole; TopKeys stops at one nested deeper
// than readguard.MaxDepth.
func TestSkip(t *testing.T) {
	const doc = `{"a": [1, {"b": [true, null]}, "x"], "k": 3}`
	var k int
	w := New(context.Background(), strings.NewReader(doc), "test")
	err := w.Document(func(key string) error {
		if key == "k" {
			return w.Decode(&k)
		}
		return w.Skip()
	})
	if err != nil || k != 3 {
		t.Fatalf("k %d, err %v", k, err)
	}

	keys := func(head string) []string {
		var out []string
		TopKeys([]byte(head), func(key string, _ *json.Decoder) (bool, bool) {
			out = append(out, key)
			return false, false
		})
		return out
	}
	if got := strings.Join(keys(doc), ","); got != "a,k" {
		t.Errorf("keys %q", got)
	}
	deep := `{"a": ` + strings.Repeat("[", readguard.MaxDepth+1) + strings.Repeat("]", readguard.MaxDepth+1) + `, "k": 1}`
	if got := strings.Join(keys(deep), ","); got != "a" {
		t.Errorf("keys past a value nested too deep: %q", got)
	}
}
