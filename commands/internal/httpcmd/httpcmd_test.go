package httpcmd

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func commandSchemas(t *testing.T) fs.FS {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return os.DirFS(filepath.Join(dir, "schemas", "commands"))
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found")
		}
		dir = parent
	}
}

// Every command schema compiles, is closed (additionalProperties false at every object) and
// bounds every string (maxLength or enum).
func TestCommandSchemasAreClosedAndBounded(t *testing.T) {
	fsys := commandSchemas(t)
	s, err := LoadSchemas(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.byName) == 0 {
		t.Fatal("no command schemas")
	}
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			return err
		}
		check(t, p, "", doc)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, file, ptr string, node map[string]any) {
	switch node["type"] {
	case "object":
		if node["additionalProperties"] != false {
			t.Errorf("%s%s: object without additionalProperties: false", file, ptr)
		}
		props, _ := node["properties"].(map[string]any)
		for k, v := range props {
			check(t, file, ptr+"/"+k, v.(map[string]any))
		}
	case "array":
		if _, ok := node["maxItems"]; !ok {
			t.Errorf("%s%s: array without maxItems", file, ptr)
		}
		check(t, file, ptr+"/items", node["items"].(map[string]any))
	case "string":
		_, max := node["maxLength"]
		_, enum := node["enum"]
		if !max && !enum {
			t.Errorf("%s%s: unbounded string", file, ptr)
		}
	}
}

func TestParseCall(t *testing.T) {
	for _, tc := range []struct {
		name, key, ifMatch string
		field              string
		want               int64
		has                bool
	}{
		{name: "none"},
		{name: "key", key: "abc-123 x"},
		{name: "long key", key: strings.Repeat("k", 201), field: "Idempotency-Key"},
		{name: "control in key", key: "a\tb", field: "Idempotency-Key"},
		{name: "non-ascii key", key: "clé", field: "Idempotency-Key"},
		{name: "if-match", ifMatch: `"12"`, want: 12, has: true},
		{name: "if-match star", ifMatch: `*`},
		{name: "if-match unquoted", ifMatch: `12`, field: "If-Match"},
		{name: "if-match weak", ifMatch: `W/"12"`, field: "If-Match"},
		{name: "if-match negative", ifMatch: `"-1"`, field: "If-Match"},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		if tc.key != "" {
			r.Header.Set("Idempotency-Key", tc.key)
		}
		if tc.ifMatch != "" {
			r.Header.Set("If-Match", tc.ifMatch)
		}
		c, err := ParseCall(r)
		if tc.field != "" {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Field() != tc.field {
				t.Errorf("%s: err %v, want an InputError naming %s", tc.name, err, tc.field)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if c.Meta.IdempotencyKey != tc.key || c.HasIfMatch != tc.has || c.IfMatch != tc.want {
			t.Errorf("%s: %+v", tc.name, c)
		}
	}
}

func TestDecodeNamesTheField(t *testing.T) {
	s, err := LoadSchemas(commandSchemas(t))
	if err != nil {
		t.Fatal(err)
	}
	sch := s.Lookup("assets/RegisterAsset")
	var v map[string]any
	for body, want := range map[string]string{
		`{"identifiers":{"ips":[1]}}`:        "/identifiers/ips/0",
		`{"identifiers":{"a/b~":1}}`:         "/identifiers/a~1b~0",
		`{"tags":["x"],"criticality":"top"}`: "/criticality",
		`"x"`:                                "/",
	} {
		err := Decode(sch, []byte(body), &v)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field() != want {
			t.Errorf("%s: %v, want field %s", body, err, want)
		}
	}
	if err := Decode(sch, nil, &v); err != nil {
		t.Errorf("empty body: %v", err)
	}
}
