package openapi

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const docURL = "soc:///openapi.json"

var compiler = sync.OnceValues(func() (*jsonschema.Compiler, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Spec()))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, doc); err != nil {
		return nil, err
	}
	return c, nil
})

var (
	schemaMu    sync.Mutex
	schemaCache = map[string]*jsonschema.Schema{}
)

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

func lookup(op Operation) *operation {
	for _, o := range operations() {
		if o.method == op.Method && o.path == op.Path {
			return &o
		}
	}
	return nil
}

// Validate checks one response against the document: the operation serving method and path
// must exist, status must be documented for it, the content type must be the documented one
// (no body when none is documented) and a JSON body must match the response schema.
func Validate(method, path string, status int, contentType string, body []byte) error {
	op, ok := Find(method, path)
	if !ok {
		return fmt.Errorf("openapi: no operation for %s %s", method, path)
	}
	o := lookup(op)
	resp, ok := o.responses[status]
	if !ok {
		return fmt.Errorf("openapi: %s %s: status %d is not documented", op.Method, op.Path, status)
	}
	if resp.contentType == "" {
		if len(bytes.TrimSpace(body)) > 0 {
			return fmt.Errorf("openapi: %s %s %d: documented without a body, got %d bytes", op.Method, op.Path, status, len(body))
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != resp.contentType {
		return fmt.Errorf("openapi: %s %s %d: content type %q, documented %q", op.Method, op.Path, status, contentType, resp.contentType)
	}
	if !strings.HasSuffix(mt, "json") {
		return nil
	}
	sch, err := responseSchema(op, status, mt)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("openapi: %s %s %d: the body is not JSON: %w", op.Method, op.Path, status, err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(err, &ve) {
			return fmt.Errorf("openapi: %s %s %d: the body does not match the schema: %v", op.Method, op.Path, status, ve)
		}
		return err
	}
	return nil
}

func responseSchema(op Operation, status int, mt string) (*jsonschema.Schema, error) {
	loc := docURL + "#/paths/" + escape(op.Path) + "/" + strings.ToLower(op.Method) + "/responses/" +
		strconv.Itoa(status) + "/content/" + escape(mt) + "/schema"
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s := schemaCache[loc]; s != nil {
		return s, nil
	}
	c, err := compiler()
	if err != nil {
		return nil, err
	}
	s, err := c.Compile(loc)
	if err != nil {
		return nil, fmt.Errorf("openapi: compiling %s: %w", loc, err)
	}
	schemaCache[loc] = s
	return s, nil
}

// escape is a JSON pointer token (RFC 6901) as it appears in a URI fragment.
func escape(tok string) string {
	tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
	return strings.ReplaceAll(strings.ReplaceAll(tok, "{", "%7B"), "}", "%7D")
}
