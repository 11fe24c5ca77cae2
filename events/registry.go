package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/socplatform/soc/schemas"
)

// Upcaster turns the data of one schema version into the next (v → v+1). Upcasters run on read,
// so stored events are never rewritten and consumers only ever see the latest shape.
type Upcaster func(data json.RawMessage) (json.RawMessage, error)

// TypeInfo describes one registered event type.
type TypeInfo struct {
	Name     string // PascalCase, past tense: "AssetRegistered"
	Context  string // bounded context: "assets"
	Latest   int    // newest schema version
	schemas  map[int]*jsonschema.Schema
	upcaster map[int]Upcaster // from version → version+1
}

// Versions returns the type's schema versions in ascending order.
func (t *TypeInfo) Versions() []int {
	return slices.Sorted(maps.Keys(t.schemas))
}

// Registry knows every event type, its JSON Schema per version and its upcasters.
// It is built once at start-up and is safe for concurrent use afterwards.
type Registry struct {
	mu    sync.RWMutex
	types map[string]*TypeInfo
	// refs is the schema tree ("<context>/<file>") whose defs.json files the schemas' $refs
	// name; nil for a registry filled by Register alone, whose schemas refer to nothing.
	refs fs.FS
}

var (
	schemaFileRe = regexp.MustCompile(`^([a-z][a-z0-9]*)/([A-Z][A-Za-z0-9]*)\.v([1-9][0-9]*)\.json$`)
)

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*TypeInfo{}} }

// LoadRegistry registers every schema under fsys, laid out as "<context>/<Type>.v<N>.json"
// (root may be "." or a sub-directory such as "events").
// A <context>/defs.json (or defs.v<N>.json) holds shapes that the context's schemas share by $ref; it is no event type.
func LoadRegistry(fsys fs.FS, root string) (*Registry, error) {
	r := NewRegistry()
	refs, err := fs.Sub(fsys, root)
	if err != nil {
		return nil, err
	}
	r.refs = refs
	err = fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || schemas.IsDefsFile(path.Base(p)) {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, root), "/")
		m := schemaFileRe.FindStringSubmatch(rel)
		if m == nil {
			return fmt.Errorf("schema file %s: name must be <context>/<Type>.v<N>.json", p)
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		v, _ := strconv.Atoi(m[3])
		return r.Register(m[1], m[2], v, b)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Register adds schema version v of an event type. Versions of a type must share its context.
func (r *Registry) Register(context, typ string, v int, schema []byte) error {
	if v < 1 {
		return fmt.Errorf("event type %s: schema version must be >= 1", typ)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		return fmt.Errorf("event type %s v%d: schema is not JSON: %w", typ, v, err)
	}
	c := schemas.NewCompiler(r.refs, "events")
	url := fmt.Sprintf("soc:///events/%s/%s.v%d.json", context, typ, v)
	if err := c.AddResource(url, doc); err != nil {
		return fmt.Errorf("event type %s v%d: %w", typ, v, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return fmt.Errorf("event type %s v%d: invalid schema: %w", typ, v, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ti := r.types[typ]
	if ti == nil {
		ti = &TypeInfo{Name: typ, Context: context, schemas: map[int]*jsonschema.Schema{}, upcaster: map[int]Upcaster{}}
		r.types[typ] = ti
	}
	if ti.Context != context {
		return fmt.Errorf("event type %s registered in two contexts: %s and %s", typ, ti.Context, context)
	}
	if _, dup := ti.schemas[v]; dup {
		return fmt.Errorf("event type %s v%d registered twice", typ, v)
	}
	ti.schemas[v] = sch
	if v > ti.Latest {
		ti.Latest = v
	}
	return nil
}

// RegisterUpcaster installs the conversion of typ's data from version from to from+1.
func (r *Registry) RegisterUpcaster(typ string, from int, up Upcaster) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	ti := r.types[typ]
	if ti == nil {
		return fmt.Errorf("upcaster for unknown event type %s", typ)
	}
	if _, ok := ti.schemas[from]; !ok {
		return fmt.Errorf("upcaster for %s v%d: no such schema version", typ, from)
	}
	if _, ok := ti.schemas[from+1]; !ok {
		return fmt.Errorf("upcaster for %s v%d: no schema v%d to upcast to", typ, from, from+1)
	}
	ti.upcaster[from] = up
	return nil
}

// Lookup returns the registered type, or nil.
func (r *Registry) Lookup(typ string) *TypeInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.types[typ]
}

// Types lists registered type names in order.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.types))
}

// CheckComplete reports every type whose versions have a gap without an upcaster:
// a v2 schema without a v1→v2 upcaster would leave v1 events unreadable in the latest shape.
func (r *Registry) CheckComplete() error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var problems []string
	for _, ti := range r.types {
		for v := 1; v < ti.Latest; v++ {
			if _, ok := ti.schemas[v]; !ok {
				problems = append(problems, fmt.Sprintf("%s: schema v%d missing (versions must be contiguous)", ti.Name, v))
			} else if ti.upcaster[v] == nil {
				problems = append(problems, fmt.Sprintf("%s: no upcaster from v%d to v%d", ti.Name, v, v+1))
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return fmt.Errorf("event registry incomplete:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// Validate checks one event's data against its type's schema. index is the event's position in
// its batch and is carried into the typed error. A zero SchemaVersion means the latest.
func (r *Registry) Validate(index int, typ string, schemaVersion int, data json.RawMessage) (int, error) {
	ti := r.Lookup(typ)
	if ti == nil {
		return 0, &UnknownEventTypeError{Index: index, Type: typ}
	}
	if schemaVersion == 0 {
		schemaVersion = ti.Latest
	}
	sch := ti.schemas[schemaVersion]
	if sch == nil {
		return 0, &InvalidEventError{Index: index, Name: "schema_version",
			Reason: fmt.Sprintf("%s has no schema version %d (latest is %d)", typ, schemaVersion, ti.Latest)}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return 0, &SchemaViolationError{Index: index, Type: typ, SchemaVersion: schemaVersion, Reason: "data is not valid JSON: " + err.Error()}
	}
	if ptr, ok := checkNumbers(inst, ""); !ok {
		return 0, &SchemaViolationError{Index: index, Type: typ, SchemaVersion: schemaVersion, Pointer: ptr,
			Reason: "number out of the range of a 64-bit float"}
	}
	if err := sch.Validate(inst); err != nil {
		ptr, reason, ok := schemas.Violation(err)
		if !ok {
			return 0, &SchemaViolationError{Index: index, Type: typ, SchemaVersion: schemaVersion, Reason: err.Error()}
		}
		return 0, &SchemaViolationError{Index: index, Type: typ, SchemaVersion: schemaVersion, Pointer: ptr, Reason: reason}
	}
	return schemaVersion, nil
}

// checkNumbers refuses numbers that no consumer could decode (1e400): the store must not accept
// an event that every reader would then fail on.
func checkNumbers(v any, ptr string) (string, bool) {
	switch x := v.(type) {
	case json.Number:
		if _, err := x.Float64(); err != nil {
			return ptr, false
		}
	case map[string]any:
		for k, e := range x {
			if p, ok := checkNumbers(e, ptr+"/"+schemas.EscapePointer(k)); !ok {
				return p, false
			}
		}
	case []any:
		for i, e := range x {
			if p, ok := checkNumbers(e, ptr+"/"+strconv.Itoa(i)); !ok {
				return p, false
			}
		}
	}
	return "", true
}

// Upcast brings an event read from the store to its type's latest schema version.
// Unknown types pass through unchanged: the store keeps what it was given, and a reader that does
// not know a type (an older binary) must still be able to page past it.
func (r *Registry) Upcast(e *Envelope) error {
	ti := r.Lookup(e.Type)
	if ti == nil || e.SchemaVersion >= ti.Latest {
		return nil
	}
	for v := e.SchemaVersion; v < ti.Latest; v++ {
		up := ti.upcaster[v]
		if up == nil {
			return fmt.Errorf("event %s: no upcaster for %s v%d", e.EventID, e.Type, v)
		}
		d, err := up(e.Data)
		if err != nil {
			return fmt.Errorf("event %s: upcasting %s v%d: %w", e.EventID, e.Type, v, err)
		}
		e.Data = d
		e.SchemaVersion = v + 1
	}
	return nil
}
