package backends

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
)

// Registry maps backend names to their open functions. It is generic so that every kind of
// backend (event stores here, read stores in projections/readstore, later search and analytics
// stores) registers and opens the same way.
type Registry[F any] struct {
	kind string // "event-store", "read-store", …: names the registry in panics and errors
	mu   sync.RWMutex
	open map[string]F
}

// NewRegistry returns an empty registry of backends of the kind named.
func NewRegistry[F any](kind string) *Registry[F] {
	return &Registry[F]{kind: kind, open: map[string]F{}}
}

// Register makes a backend available by name. It panics on an empty name, a nil open function or
// a name registered twice: all are programming errors found at start-up.
func (r *Registry[F]) Register(name string, open F) {
	if v := reflect.ValueOf(open); name == "" || !v.IsValid() || (v.Kind() == reflect.Func && v.IsNil()) {
		panic(r.kind + " backends: Register needs a name and an open function")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.open[name]; dup {
		panic(fmt.Sprintf("%s backends: %q registered twice", r.kind, name))
	}
	r.open[name] = open
}

// Lookup returns the open function registered under name, or an error listing the known names.
func (r *Registry[F]) Lookup(name string) (F, error) {
	r.mu.RLock()
	open, ok := r.open[name]
	r.mu.RUnlock()
	if !ok {
		var zero F
		return zero, fmt.Errorf("%s backend %q is not registered (known: %v)", r.kind, name, r.Names())
	}
	return open, nil
}

// Names lists the registered backends, sorted.
func (r *Registry[F]) Names() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.open))
}
