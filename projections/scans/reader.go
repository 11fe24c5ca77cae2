package scans

import (
	"context"
	"strconv"
	"time"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// Reader runs the scans read model's queries over its view (scans).
type Reader struct {
	db *readkit.DB
}

// NewReader returns a Reader over db.
func NewReader(db *projections.DB) *Reader {
	return &Reader{db: readkit.NewDB(db)}
}

var scanSorts = map[string]readkit.SortSpec[Scan]{
	"started_at": readkit.TimeSort("s.started_at", func(s *Scan) time.Time { return s.StartedAt }),
	"findings_total": {Exprs: []string{"s.findings_total"}, Format: func(s *Scan) string { return strconv.FormatInt(s.FindingsTotal, 10) },
		Parse: func(v string) ([]any, error) { return readkit.One(strconv.ParseInt(v, 10, 64)) }},
	"id": readkit.IDSort(func(s *Scan) string { return s.ID }),
}

func scanSelect() string { return "SELECT " + scanTable.Qualified("s") + " FROM scans s" }

// Scan returns one scan by scan id.
func (r *Reader) Scan(ctx context.Context, id string) (*Scan, error) {
	return readkit.Get(ctx, r.db, scanSelect(), "s.id", id, scanTable.Scan)
}

// Scans lists scans.
func (r *Reader) Scans(ctx context.Context, sq Query) (readkit.Page[Scan], error) {
	q := readkit.NewQuery(r.db.Dialect)
	q.Eq("s.format", sq.Format)
	q.Eq("s.status", sq.Status)
	q.Eq("s.actor", sq.Actor)
	readkit.TimeRange(q, "s.started_at", sq.From, sq.To)
	spec, tail, limit, err := readkit.Paginate(q, sq.List, scanSorts, Sorts[0], "s.id")
	if err != nil {
		return readkit.Page[Scan]{}, err
	}
	return readkit.ListPage(ctx, r.db, scanSelect()+q.WhereSQL()+tail, q.Args, limit, spec, scanTable.Scan, func(s *Scan) string { return s.ID })
}
