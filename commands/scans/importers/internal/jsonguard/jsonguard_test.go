package jsonguard

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

type inner struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
}

type embedded struct {
	Name string `json:"name"`
}

type elem struct {
	embedded
	Key   string  `json:"key"`
	List  []inner `json:"list"`
	Score Score   `json:"score"`
	Line  LineNo  `json:"line"`
}

func decode(t *testing.T, doc string, required ...string) ([]elem, []string, error) {
	t.Helper()
	w, err := Open(context.Background(), "test", strings.NewReader(doc), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []elem
	var warnings []string
	err = Elements(w, "items", &out, Tolerant{Required: required, Warn: func(m string) { warnings = append(warnings, m) }})
	return out, warnings, err
}

// TestDecodeTolerant: members of an unexpected type are left out, at any depth, inside arrays
// and embedded structs, with a warning naming the JSON path; required ones, and errors that are
// not type errors, still refuse.
func TestDecodeTolerant(t *testing.T) {
	out, warnings, err := decode(t, `[{"key": "k", "name": ["x"], "list": [{"id": "a", "tags": "t"}, {"id": "b"}], "line": "7"}]`, "key")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 || out[0].Key != "k" || out[0].Name != "" || len(out[0].List) != 2 || out[0].List[0].ID != "a" || out[0].Line != 7 {
		t.Errorf("out = %+v", out)
	}
	want := "items[0].name: JSON array where a string was expected: left out\nitems[0].list.tags: JSON string where an array was expected: left out"
	if strings.Join(warnings, "\n") != want {
		t.Errorf("warnings = %q", warnings)
	}
	for doc, msg := range map[string]string{
		`[{"key": 1}]`:                         "key",
		`[{"list": [{"id": {}}]}]`:             "list.id",
		`[{"list": "x"}]`:                      "list",
		`[{"score": 11}]`:                      "[0, 10]",
		`[{"line": -1}]`:                       "line/column",
		"[{\"key\": \"k\",\n \"name\": [1, }]": "invalid character",
	} {
		_, _, err := decode(t, doc, "key", "list.id")
		var pe *importers.ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Msg, msg) {
			t.Errorf("%s: err = %v, want a ParseError mentioning %q", doc, err, msg)
		}
	}
}
