package sqlstore_test

import (
	"context"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics/analyticstest"
	"github.com/socplatform/soc/projections/analytics/sqlstore"
	"github.com/socplatform/soc/projections/internal/testdb"
)

// backend is the projection and its Reader over one database, fed as the runner would: each
// batch (the events of the projection's contexts) in one transaction of generation 1.
type backend struct {
	*sqlstore.Reader
	db *projections.DB
	p  *sqlstore.Projection
}

func (b *backend) Apply(ctx context.Context, batch []events.Envelope) error {
	var mine []events.Envelope
	for _, e := range batch {
		for _, c := range b.p.Contexts() {
			if e.Context() == c {
				mine = append(mine, e)
			}
		}
	}
	tx, err := b.db.Begin(ctx, 1)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := b.p.Apply(ctx, tx, mine); err != nil {
		return err
	}
	return tx.Commit()
}

func open(t testing.TB, db *projections.DB) analyticstest.Backend {
	t.Helper()
	ctx := context.Background()
	p := sqlstore.New()
	tx, err := db.Begin(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := p.Create(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := projections.PointViews(ctx, tx, p); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return &backend{Reader: sqlstore.NewReader(db), db: db, p: p}
}

func TestContract(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		analyticstest.Run(t, func(t *testing.T) analyticstest.Backend { return open(t, testdb.SQLite(t)) })
	})
	t.Run("postgres", func(t *testing.T) {
		analyticstest.Run(t, func(t *testing.T) analyticstest.Backend { return open(t, testdb.Postgres(t)) })
	})
}
