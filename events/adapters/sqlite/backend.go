package sqlite

import (
	"context"

	"github.com/socplatform/soc/events/backends"
)

// The embedded default registers itself as "sqlite": importing this package is what makes it a
// backend the binary can open by name.
func init() {
	backends.Register("sqlite", func(ctx context.Context, s backends.Settings) (backends.Backend, error) {
		st, err := Open(ctx, Config{Path: s.Path, Synchronous: s.Synchronous})
		if err != nil {
			return nil, err // not st: a nil *Store in the interface would not compare equal to nil
		}
		return st, nil
	})
}
