package vulns

import (
	"database/sql"
	"encoding/json"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
)

// CVEsProjection is the CVE catalogue read model (table cves), keyed by CVE id. OpenFindings is
// not stored: the Reader counts it from the findings projection's finding_cves.
type CVEsProjection struct{ readkit.Keyed[CVE] }

// NewCVEsProjection returns the CVE catalogue projection. Finding events are the findings
// projection's.
func NewCVEsProjection() *CVEsProjection {
	return &CVEsProjection{readkit.Keyed[CVE]{Context: "vulns", Table: cveTable, Handles: isCVEEvent, Key: cveIDOf, Fold: ApplyCVE}}
}

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
