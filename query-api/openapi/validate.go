package openapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// loaded is the document as kin-openapi reads it (OpenAPI 3.1: JSON Schema 2020-12, formats
// asserted), for Validate.
var loaded = sync.OnceValues(func() (*openapi3.T, error) { return openapi3.NewLoader().LoadFromData(Spec()) })

// Find returns the documented operation serving a concrete method and path (path templates
// matched segment by segment; a literal segment beats a template).
func Find(method, path string) (Operation, bool) {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(path, "/")
	best, bestScore := Operation{}, -1
	for _, op := range operations() {
		if op.method != method {
			continue
		}
		tsegs := strings.Split(op.path, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		score := 0
		for i, t := range tsegs {
			switch {
			case strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}"):
				if segs[i] == "" {
					score = -1
				}
			case t == segs[i]:
				score++
			default:
				score = -1
			}
			if score < 0 {
				break
			}
		}
		if score > bestScore {
			best, bestScore = Operation{Method: op.method, Path: op.path}, score
		}
	}
	return best, bestScore >= 0
}

// Validate checks one response against the document: the operation serving method and path
// must exist, status must be documented for it, the content type must be the documented one
// (no body when none is documented) and the body must match the response schema.
func Validate(method, path string, status int, contentType string, body []byte) error {
	op, ok := Find(method, path)
	if !ok {
		return fmt.Errorf("openapi: no operation for %s %s", method, path)
	}
	doc, err := loaded()
	if err != nil {
		return fmt.Errorf("openapi: loading the document: %w", err)
	}
	item := doc.Paths.Value(op.Path)
	o := item.GetOperation(op.Method)
	// kin-openapi accepts any body where the document describes none (a 304, a 204).
	if r := o.Responses.Status(status); r != nil && len(r.Value.Content) == 0 && len(bytes.TrimSpace(body)) > 0 {
		return fmt.Errorf("openapi: %s %s %d: documented without a body, got %d bytes", op.Method, op.Path, status, len(body))
	}
	req, err := http.NewRequest(method, path, nil)
	if err != nil {
		return fmt.Errorf("openapi: %s %s: %w", method, path, err)
	}
	header := http.Header{}
	if contentType != "" {
		header.Set("Content-Type", contentType)
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req,
			Route: &routers.Route{Spec: doc, Path: op.Path, PathItem: item, Method: op.Method, Operation: o}},
		Status:  status,
		Header:  header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if err != nil {
		return fmt.Errorf("openapi: %s %s %d: %w", op.Method, op.Path, status, err)
	}
	return nil
}
