package vulns

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// CVEsProjection is the CVE catalogue read model (table cves), keyed by CVE id. OpenFindings is
// not stored: the Reader counts it from the findings projection's finding_cves.
type CVEsProjection struct{ cache readkit.SQLCache }

// NewCVEsProjection returns the CVE catalogue projection.
func NewCVEsProjection() *CVEsProjection { return &CVEsProjection{} }

var _ projections.Projection = (*CVEsProjection)(nil)

func (*CVEsProjection) Name() string       { return "cves" }
func (*CVEsProjection) Contexts() []string { return []string{"vulns"} }
func (*CVEsProjection) Tables() []string   { return []string{"cves"} }

var cveTable = &readkit.Table[CVE]{
	Base: "cves",
	Cols: func(d projections.Dialect) []readkit.Column {
		return []readkit.Column{
			{"id", readkit.KeyText(d)}, {"stream_id", readkit.TText}, {"published", readkit.TIntNul}, {"last_modified", readkit.TIntNul},
			{"status", readkit.TText}, {"description", readkit.TText}, {"cvss_score", readkit.TRealN}, {"cvss_vector", readkit.TText},
			{"ratings", readkit.TText}, {"cwes", readkit.TText}, {"kev", readkit.TInt}, {"kev_date_added", readkit.TText}, {"kev_due_date", readkit.TText},
			{"kev_ransomware", readkit.TText}, {"epss", readkit.TRealN}, {"epss_percentile", readkit.TRealN}, {"version", readkit.TInt},
		}
	},
	Values: func(c *CVE) []any {
		return []any{
			c.ID, c.StreamID, readkit.NullMicros(c.Published), readkit.NullMicros(c.LastModified), c.Status, c.Description,
			readkit.NullFloat(c.CVSSScore), c.CVSSVector, string(c.Ratings), readkit.JSONText(c.CWEs), readkit.BoolInt(c.KEV), c.KEVDateAdded,
			c.KEVDueDate, c.KEVRansomware, readkit.NullFloat(c.EPSS), readkit.NullFloat(c.EPSSPercentile), c.Version,
		}
	},
	Scan: func(s readkit.Scanner) (*CVE, error) {
		var c CVE
		var pub, mod sql.NullInt64
		var score, epss, pct sql.NullFloat64
		var ratings, cwes string
		var kev int64
		if err := s.Scan(&c.ID, &c.StreamID, &pub, &mod, &c.Status, &c.Description, &score, &c.CVSSVector, &ratings,
			&cwes, &kev, &c.KEVDateAdded, &c.KEVDueDate, &c.KEVRansomware, &epss, &pct, &c.Version); err != nil {
			return nil, err
		}
		c.Published, c.LastModified = readkit.FromNullMicros(pub), readkit.FromNullMicros(mod)
		c.CVSSScore, c.EPSS, c.EPSSPercentile = readkit.FromNullFloat(score), readkit.FromNullFloat(epss), readkit.FromNullFloat(pct)
		if ratings != "" {
			c.Ratings = json.RawMessage(ratings)
		}
		var err error
		if c.CWEs, err = readkit.FromJSON[[]string](cwes); err != nil {
			return nil, err
		}
		c.KEV = kev != 0
		return &c, nil
	},
}

// Create implements projections.Projection.
func (p *CVEsProjection) Create(ctx context.Context, tx *projections.Tx) error {
	return cveTable.Create(ctx, tx)
}

// Apply implements projections.Projection. Finding events are the findings projection's.
func (p *CVEsProjection) Apply(ctx context.Context, tx *projections.Tx, batch []events.Envelope) ([]projections.Change, error) {
	_, changes, err := readkit.ApplyKeyed(ctx, tx, &p.cache, cveTable, batch,
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
