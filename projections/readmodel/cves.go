package readmodel

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
)

// CVEsProjection is the CVE catalogue read model (table cves), keyed by CVE id. OpenFindings is
// not stored: the Reader counts it from the findings projection's finding_cves.
type CVEsProjection struct{ cache sqlCache }

// NewCVEsProjection returns the CVE catalogue projection.
func NewCVEsProjection() *CVEsProjection { return &CVEsProjection{} }

var _ projections.Projection = (*CVEsProjection)(nil)

func (*CVEsProjection) Name() string       { return "cves" }
func (*CVEsProjection) Contexts() []string { return []string{"vulns"} }
func (*CVEsProjection) Tables() []string   { return []string{"cves"} }

var cveTable = &table[CVE]{
	base: "cves",
	cols: func(d projections.Dialect) []column {
		return []column{
			{"id", keyText(d)}, {"stream_id", tText}, {"published", tIntNul}, {"last_modified", tIntNul},
			{"status", tText}, {"description", tText}, {"cvss_score", tRealN}, {"cvss_vector", tText},
			{"ratings", tText}, {"cwes", tText}, {"kev", tInt}, {"kev_date_added", tText}, {"kev_due_date", tText},
			{"kev_ransomware", tText}, {"epss", tRealN}, {"epss_percentile", tRealN}, {"version", tInt},
		}
	},
	values: func(c *CVE) []any {
		return []any{
			c.ID, c.StreamID, nullMicros(c.Published), nullMicros(c.LastModified), c.Status, c.Description,
			nullFloat(c.CVSSScore), c.CVSSVector, string(c.Ratings), jsonText(c.CWEs), boolInt(c.KEV), c.KEVDateAdded,
			c.KEVDueDate, c.KEVRansomware, nullFloat(c.EPSS), nullFloat(c.EPSSPercentile), c.Version,
		}
	},
	scan: func(s scanner) (*CVE, error) {
		var c CVE
		var pub, mod sql.NullInt64
		var score, epss, pct sql.NullFloat64
		var ratings, cwes string
		var kev int64
		if err := s.Scan(&c.ID, &c.StreamID, &pub, &mod, &c.Status, &c.Description, &score, &c.CVSSVector, &ratings,
			&cwes, &kev, &c.KEVDateAdded, &c.KEVDueDate, &c.KEVRansomware, &epss, &pct, &c.Version); err != nil {
			return nil, err
		}
		c.Published, c.LastModified = fromNullMicros(pub), fromNullMicros(mod)
		c.CVSSScore, c.EPSS, c.EPSSPercentile = fromNullFloat(score), fromNullFloat(epss), fromNullFloat(pct)
		if ratings != "" {
			c.Ratings = json.RawMessage(ratings)
		}
		var err error
		if c.CWEs, err = fromJSON[[]string](cwes); err != nil {
			return nil, err
		}
		c.KEV = kev != 0
		return &c, nil
	},
}

// Create implements projections.Projection.
func (p *CVEsProjection) Create(ctx context.Context, tx *projections.Tx) error {
	return createTable(ctx, tx, "cves", cveTable.cols(tx.Dialect), "id")
}

// Apply implements projections.Projection. Finding events are the findings projection's.
func (p *CVEsProjection) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	_, changes, err := applyKeyed(ctx, tx, &p.cache, cveTable, batch,
		func(e *events.Envelope) (string, bool, error) {
			if !isCVEEvent(e.Type) {
				return "", false, nil
			}
			id, err := cveIDOf(e)
			return id, true, err
		},
		applyCVE,
		func(e *events.Envelope, _ *CVE) projections.Change {
			return projections.Change{Projection: "cves", Event: *e}
		})
	return changes, err
}
