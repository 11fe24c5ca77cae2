// Package httpcmd serves command endpoints: it translates a request into a typed command (a
// bounded JSON body, read strictly by jsonbody, validated against the command's JSON Schema)
// and an es.Invocation (the Idempotency-Key and If-Match headers), and the handler's es.Outcome
// into the answer (the stream's new version as ETag, and its global position). Every error is
// problem+json through schemas/problem, so a command endpoint answers like every other endpoint.
package httpcmd

import (
	"bytes"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/socplatform/soc/schemas"
)

// Schemas holds the compiled command schemas, keyed "<context>/<Command>".
type Schemas struct {
	byName map[string]*jsonschema.Schema
}

var commandFileRe = regexp.MustCompile(`^([a-z][a-z0-9]*)/([A-Z][A-Za-z0-9]*)\.json$`)

// LoadSchemas compiles every "<context>/<Command>.json" under fsys (draft 2020-12, formats asserted,
// $refs to a context's defs.json resolved from fsys).
func LoadSchemas(fsys fs.FS) (*Schemas, error) {
	s := &Schemas{byName: map[string]*jsonschema.Schema{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) == schemas.DefsFile {
			return err
		}
		m := commandFileRe.FindStringSubmatch(p)
		if m == nil {
			return fmt.Errorf("command schema %s: name must be <context>/<Command>.json", p)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("command schema %s: not JSON: %w", p, err)
		}
		c := schemas.NewCompiler(fsys, "commands")
		url := "soc:///commands/" + p
		if err := c.AddResource(url, doc); err != nil {
			return fmt.Errorf("command schema %s: %w", p, err)
		}
		sch, err := c.Compile(url)
		if err != nil {
			return fmt.Errorf("command schema %s: invalid: %w", p, err)
		}
		s.byName[strings.TrimSuffix(p, ".json")] = sch
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Mux is where a context's ports register their routes: an *http.ServeMux, or a wrapper that
// also records the patterns (the OpenAPI coverage test).
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Open is how a context's ports start: it compiles the command schemas under fsys, fails unless
// every schema the context handles (required) is among them, and returns a Server over them.
func Open(fsys fs.FS, maxBodyBytes int64, log *slog.Logger, required ...string) (*Server, error) {
	sch, err := LoadSchemas(fsys)
	if err != nil {
		return nil, err
	}
	if err := sch.Require(required...); err != nil {
		return nil, err
	}
	return New(Config{Schemas: sch, MaxBodyBytes: maxBodyBytes, Log: log}), nil
}

// MustLoadSchemas is LoadSchemas for schemas embedded in the binary, where an error is a bug.
func MustLoadSchemas(fsys fs.FS) *Schemas {
	s, err := LoadSchemas(fsys)
	if err != nil {
		panic(err)
	}
	return s
}

// Lookup returns the schema of "<context>/<Command>", or nil.
func (s *Schemas) Lookup(name string) *jsonschema.Schema { return s.byName[name] }

// Require fails unless every named schema is present, so a missing file fails at start-up
// rather than on the first request.
func (s *Schemas) Require(names ...string) error {
	var missing []string
	for _, n := range names {
		if s.byName[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("command schemas missing: %s", strings.Join(missing, ", "))
	}
	return nil
}
