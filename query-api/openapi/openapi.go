// Package openapi holds the platform's OpenAPI 3.1 document — every command endpoint, every
// query endpoint, health, metrics, the WebSocket and the document itself — built in Go from
// the command JSON Schemas (schemas.CommandsFS) and the query API's parameter tables, and a
// validator that checks a response against it with kin-openapi (tests use it so that handlers
// and document cannot drift).
package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/socplatform/soc/schemas"
)

// Operation is one documented endpoint; Path is in OpenAPI form (/v1/assets/{id}).
type Operation struct {
	Method string // upper case
	Path   string
}

// MuxPattern is the http.ServeMux pattern of the operation: "GET /v1/assets/{id}".
func (o Operation) MuxPattern() string { return o.Method + " " + o.Path }

// FromMuxPattern parses a "METHOD /path" mux pattern (OpenAPI and Go 1.22 path templates
// agree for plain {name} segments; a trailing {name...} or {$} is not used by the platform).
func FromMuxPattern(p string) (Operation, bool) {
	m, pth, ok := strings.Cut(p, " ")
	if !ok || m == "" || !strings.HasPrefix(pth, "/") || strings.Contains(pth, "...}") || strings.Contains(pth, "{$}") {
		return Operation{}, false
	}
	return Operation{Method: strings.ToUpper(m), Path: pth}, true
}

var build = sync.OnceValues(func() ([]byte, error) {
	doc, err := document()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// Spec returns the OpenAPI document (JSON). It panics if the embedded command schemas are
// broken, which the package's tests rule out.
func Spec() []byte {
	b, err := build()
	if err != nil {
		panic("openapi: " + err.Error())
	}
	return b
}

// Operations lists every documented operation, sorted by path then method.
func Operations() []Operation {
	var out []Operation
	for _, op := range operations() {
		out = append(out, Operation{Method: op.method, Path: op.path})
	}
	slices.SortFunc(out, func(a, b Operation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Method, b.Method)
	})
	return out
}

// QueryParams returns the names of the query parameters the operation declares (nil for an
// unknown operation). The query API refuses any other parameter.
func QueryParams(method, path string) []string {
	for _, op := range operations() {
		if op.method == method && op.path == path {
			var names []string
			for _, p := range op.params {
				if p.in == "query" {
					names = append(names, p.name)
				}
			}
			return names
		}
	}
	return nil
}

// commandSchemas loads schemas.CommandsFS() as component schemas named after the command.
func commandSchemas() (obj, error) {
	out := obj{}
	fsys := schemas.CommandsFS()
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".json" {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var s obj
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("command schema %s: %w", p, err)
		}
		s = componentRefs(s).(obj)
		if path.Base(p) == schemas.DefsFile {
			// A context's shared shapes: each one a component, where the commands' $refs now point.
			defs, _ := s["$defs"].(obj)
			for name, d := range defs {
				if _, dup := out[name]; dup {
					return fmt.Errorf("command schema %s: definition %s is declared twice", p, name)
				}
				out[name] = d
			}
			return nil
		}
		if _, bus := s["x-command-type"]; bus {
			return nil // a saga's command, sent through the command bus: no endpoint takes it
		}
		// Inside an OpenAPI 3.1 document the dialect is the document's (JSON Schema 2020-12).
		delete(s, "$schema")
		delete(s, "$id")
		out[strings.TrimSuffix(path.Base(p), ".json")] = s
		return nil
	})
	return out, err
}

// componentRefs rewrites a command schema's "$ref": "defs.json#/$defs/<Name>" to the component
// "#/components/schemas/<Name>": inside the document, a schema has no file beside it to refer to.
func componentRefs(v any) any {
	switch x := v.(type) {
	case obj:
		for k, e := range x {
			if ref, ok := e.(string); ok && k == "$ref" {
				if name, ok := strings.CutPrefix(ref, schemas.DefsFile+"#/$defs/"); ok {
					x[k] = "#/components/schemas/" + name
				}
				continue
			}
			x[k] = componentRefs(e)
		}
	case []any:
		for i, e := range x {
			x[i] = componentRefs(e)
		}
	}
	return v
}

func document() (obj, error) {
	cmds, err := commandSchemas()
	if err != nil {
		return nil, err
	}
	comps := componentSchemas()
	for name, s := range reportingSchemas() {
		comps[name] = s
	}
	for name, s := range searchSchemas() {
		comps[name] = s
	}
	for name, s := range cmds {
		if _, dup := comps[name]; dup {
			return nil, fmt.Errorf("command schema %s collides with a component", name)
		}
		comps[name] = s
	}
	paths := obj{}
	for _, op := range operations() {
		if op.body != "" && cmds[op.body] == nil {
			return nil, fmt.Errorf("%s %s: no command schema %s", op.method, op.path, op.body)
		}
		item, _ := paths[op.path].(obj)
		if item == nil {
			item = obj{}
			paths[op.path] = item
		}
		item[strings.ToLower(op.method)] = op.render()
	}
	return obj{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": obj{
			"title":   "SOC platform API",
			"version": "1",
			"description": "Commands write events (POST, JSON validated against the command's schema, Idempotency-Key, " +
				"If-Match); queries read the read models with filters, sorting and cursor pagination; every error is " +
				"RFC 9457 problem+json. Read-your-writes: pass a command's global_position as min_position (or the " +
				"X-Min-Position header) and the read waits, bounded, until the read models have caught up.",
		},
		"paths": paths,
		"components": obj{
			"schemas": comps,
		},
	}, nil
}
