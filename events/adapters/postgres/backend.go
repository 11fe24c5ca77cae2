package postgres

import (
	"context"

	"github.com/socplatform/soc/events/backends"
)

// The production store registers itself as "postgres": importing this package is what makes it a
// backend the binary can open by name.
func init() {
	backends.Register("postgres", func(ctx context.Context, s backends.Settings) (backends.Backend, error) {
		st, err := Open(ctx, Config{URL: s.URL, Schema: s.Schema})
		if err != nil {
			return nil, err // not st: a nil *Store in the interface would not compare equal to nil
		}
		return st, nil
	})
}
