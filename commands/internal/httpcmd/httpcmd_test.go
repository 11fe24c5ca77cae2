package httpcmd

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/schemas/access"
)

// Every command schema compiles, is closed (additionalProperties false at every object) and
// bounds every string (maxLength or enum).
func TestCommandSchemasAreClosedAndBounded(t *testing.T) {
	fsys := testsupport.CommandSchemas(t)
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
		testsupport.CheckClosedAndBounded(t, p, doc, false)
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
		if c.Meta.IdempotencyKey != tc.key || (c.Expected != nil) != tc.has || (tc.has && *c.Expected != tc.want) {
			t.Errorf("%s: %+v", tc.name, c)
		}
	}
}

// The actor of a command is the principal the access middleware authenticated; a request
// without one (a public route) is anonymous.
func TestParseCallActor(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	if c, err := ParseCall(r); err != nil || c.Meta.Actor != "anonymous" {
		t.Fatalf("no principal: %q %v", c.Meta.Actor, err)
	}
	for _, tc := range []struct {
		p    access.Principal
		want string
	}{
		{access.Principal{Kind: access.KindUser, ID: "u-1"}, "user:u-1"},
		{access.Principal{Kind: access.KindToken, ID: "t-1"}, "token:t-1"},
		{access.System("scan_run"), "system:scan_run"},
	} {
		p, want := tc.p, tc.want
		r := r.WithContext(access.With(r.Context(), p))
		if c, err := ParseCall(r); err != nil || c.Meta.Actor != want || ActorOf(r) != want {
			t.Errorf("%+v: %q %v, want %s", p, c.Meta.Actor, err, want)
		}
	}
}

func TestDecodeNamesTheField(t *testing.T) {
	s, err := LoadSchemas(testsupport.CommandSchemas(t))
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

// A command body is read strictly before its schema sees it: invalid UTF-8, NUL characters and
// duplicate member names are a 400 problem+json naming the value, and the command never runs;
// a clean body (escapes and non-ASCII included) runs it with the values as sent.
func TestHandleRefusesBodiesEncodingJSONWouldRepair(t *testing.T) {
	s, err := LoadSchemas(testsupport.CommandSchemas(t))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	h := Handle(New(Config{Schemas: s}), "assets/RegisterAsset", func(_ context.Context, _ *http.Request, cmd map[string]any, _ es.Invocation) (Result, error) {
		got = cmd
		return Result{Outcome: es.Outcome{StreamID: "assets-asset-1", Version: 1}}, nil
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	for body, field := range map[string]string{
		"{\"kind\":\"host\",\"name\":\"web\xc0\xaf\"}":                   "/name",
		`{"kind":"host","name":"web\ud800"}`:                             "/name",
		`{"kind":"host","name":"web\u0000"}`:                             "/name",
		`{"kind":"host","name":"a","name":"b"}`:                          "/name",
		`{"kind":"host","identifiers":{"ips":["10.0.0.1"],"ips":["x"]}}`: "/identifiers/ips",
		`{"kind":"host"} {"kind":"x"}`:                                   "/",
	} {
		got = nil
		r := testsupport.Do(t, "POST", srv.URL, body)
		testsupport.ExpectProblem(t, r, http.StatusBadRequest, field)
		if got != nil {
			t.Errorf("%q: the command ran with %v", body, got)
		}
	}
	r := testsupport.Do(t, "POST", srv.URL, `{"kind":"host","name":"caf\u00e9 ☕","identifiers":{"hostnames":["web"]}}`)
	if r.Status != http.StatusOK || got["name"] != "café ☕" {
		t.Fatalf("status %d %v, command %v", r.Status, r.Body, got)
	}
}
