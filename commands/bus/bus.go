// Package bus is the typed command bus between components: the commands the sagas issue
// (schemas/commands/<context>/<Command>.json marked "x-command-type") reach the handler their
// context registered for that type, with a payload validated against the command's schema and
// decoded into the command's Go type (schemas/contracts). The caller knows only the type name and
// the raw payload; no one outside the owning context knows a payload's shape.
package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/socplatform/soc/commands/internal/httpcmd"
	"github.com/socplatform/soc/schemas/problem"
)

// Bus routes commands by type to their registered handler. Handlers are registered at start-up
// (Register); Dispatch is safe for concurrent use.
type Bus struct {
	schemas map[string]*jsonschema.Schema // by x-command-type

	mu       sync.RWMutex
	handlers map[string]func(ctx context.Context, id string, payload json.RawMessage) error
}

// New reads the command schemas under fsys ("<context>/<Command>.json", schemas.CommandsFS) and
// keeps those that declare an x-command-type: the commands that can be sent through the bus.
func New(fsys fs.FS) (*Bus, error) {
	compiled, err := httpcmd.LoadSchemas(fsys)
	if err != nil {
		return nil, err
	}
	b := &Bus{schemas: map[string]*jsonschema.Schema{}, handlers: map[string]func(context.Context, string, json.RawMessage) error{}}
	from := map[string]string{} // type → file, to name both files of a type declared twice
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".json" {
			return err
		}
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		var doc struct {
			Type string `json:"x-command-type"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			return fmt.Errorf("command schema %s: %w", p, err)
		}
		if doc.Type == "" {
			return nil // an HTTP command: it has an endpoint, not a bus type
		}
		if prev, ok := from[doc.Type]; ok {
			return fmt.Errorf("command type %q is declared by both %s and %s", doc.Type, prev, p)
		}
		from[doc.Type] = p
		b.schemas[doc.Type] = compiled.Lookup(strings.TrimSuffix(p, ".json"))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Register routes the commands of type name to h. The payload is validated against the
// command's schema, then decoded into C (unknown fields refused), before h runs; h never sees a
// payload its schema refuses. id is the command's idempotency key: delivery is at least once, so
// h must do nothing twice for the same id. Registering a type twice, or a type no schema
// declares, is an error.
func Register[C any](b *Bus, name string, h func(ctx context.Context, id string, cmd C) error) error {
	sch := b.schemas[name]
	if sch == nil {
		return fmt.Errorf("command bus: no command schema declares x-command-type %q", name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, dup := b.handlers[name]; dup {
		return fmt.Errorf("command bus: %q has a handler already", name)
	}
	b.handlers[name] = func(ctx context.Context, id string, payload json.RawMessage) error {
		var cmd C
		if err := httpcmd.Decode(sch, payload, &cmd); err != nil {
			pe := &PayloadError{Type: name, Reason: err.Error()}
			if ie, ok := errors.AsType[*httpcmd.InputError](err); ok {
				pe.Pointer, pe.Reason = ie.Pointer, ie.Reason
			}
			return pe
		}
		return h(ctx, id, cmd)
	}
	return nil
}

// Dispatch sends the command id of type typ to its handler. A type without a handler is an
// *UnknownCommandError, a payload its schema refuses a *PayloadError; any other error is the
// handler's.
func (b *Bus) Dispatch(ctx context.Context, id, typ string, payload json.RawMessage) error {
	b.mu.RLock()
	h := b.handlers[typ]
	b.mu.RUnlock()
	if h == nil {
		return &UnknownCommandError{Type: typ}
	}
	return h(ctx, id, payload)
}

// Types lists the command types that can be sent through the bus (those with a schema), sorted.
func (b *Bus) Types() []string { return slices.Sorted(maps.Keys(b.schemas)) }

// Handled lists the command types that have a handler, sorted.
func (b *Bus) Handled() []string {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return slices.Sorted(maps.Keys(b.handlers))
}

// UnknownCommandError is a command whose type has no handler in this process. It is not
// permanent: the sender retries (another node, or this one after a restart, may handle it).
type UnknownCommandError struct{ Type string }

func (e *UnknownCommandError) Error() string {
	return fmt.Sprintf("no handler for command type %q", e.Type)
}
func (e *UnknownCommandError) Kind() problem.Kind { return problem.KindUnavailable }

// PayloadError is a command whose payload its schema refuses: no retry can make it valid.
type PayloadError struct {
	Type    string
	Pointer string // the failing field as a JSON pointer ("/finding_id"), "" when not known
	Reason  string
}

func (e *PayloadError) Error() string {
	if e.Pointer == "" {
		return e.Type + ": invalid payload: " + e.Reason
	}
	return e.Type + ": invalid payload: " + e.Pointer + ": " + e.Reason
}
func (e *PayloadError) Kind() problem.Kind { return problem.KindInvalid }
func (e *PayloadError) Field() string      { return e.Pointer }

// Permanent tells the saga dispatcher not to retry the command (sagas' permanent-failure
// convention): it is recorded as failed for good at once, and the saga compensates.
func (e *PayloadError) Permanent() bool { return true }
