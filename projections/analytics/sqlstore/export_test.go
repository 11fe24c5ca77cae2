package sqlstore

import (
	"context"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics"
)

// WriteOutput writes rows folded elsewhere (the query benchmark's generated million) as Apply
// writes a batch's.
func (p *Projection) WriteOutput(ctx context.Context, tx *projections.Tx, out analytics.Output, pos int64) error {
	return p.write(ctx, tx, &out, pos)
}
