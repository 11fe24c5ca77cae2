package analytics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/projections/ownership"
)

// Bounds of a query's inputs: every backend checks them the same way (Prepare, Options.Check).
const (
	MaxFilterValues = 50  // values of one filter list
	MaxFilterLen    = 200 // characters of one filter value
	DefaultLimit    = 10
	MaxLimit        = 1000
	DefaultDueIn    = 7 * 24 * time.Hour
	MaxDueIn        = 366 * 24 * time.Hour
	DefaultStale    = 90 * 24 * time.Hour
	MaxStale        = 10 * 366 * 24 * time.Hour
)

// Prepare checks q and returns it normalised (Now set, tags lower-cased as the assets context
// stores them, filter lists sorted and without duplicates, the scope normalised) with its
// buckets. A bad parameter is
// a *ParamError naming it.
func Prepare(q Query) (Query, []Bucket, error) {
	bs, err := Buckets(q)
	if err != nil {
		return q, nil, err
	}
	if q.Now.IsZero() {
		q.Now = time.Now()
	}
	q.Scope = ownership.Normalize(q.Scope)
	lists := []struct {
		param string
		vals  *[]string
		lower bool
	}{
		{"tags", &q.Tags, true}, {"teams", &q.Teams, false}, {"environments", &q.Environments, false},
		{"asset_kinds", &q.AssetKinds, false}, {"scanners", &q.Scanners, false}, {"severities", &q.Severities, false},
	}
	for _, l := range lists {
		if len(*l.vals) > MaxFilterValues {
			return q, nil, &ParamError{Param: l.param, Reason: fmt.Sprintf("more than %d values", MaxFilterValues)}
		}
		out := make([]string, 0, len(*l.vals))
		for _, v := range *l.vals {
			if v == "" || len(v) > MaxFilterLen {
				return q, nil, &ParamError{Param: l.param, Reason: fmt.Sprintf("a value must have 1 to %d characters", MaxFilterLen)}
			}
			if l.lower {
				v = strings.ToLower(v)
			}
			out = append(out, v)
		}
		slices.Sort(out)
		*l.vals = slices.Compact(out)
		if len(*l.vals) == 0 {
			*l.vals = nil
		}
	}
	for _, s := range q.Severities {
		if !slices.Contains(Severities, s) {
			return q, nil, &ParamError{Param: "severities", Reason: fmt.Sprintf("unknown severity %q: want one of %s", s, strings.Join(Severities, ", "))}
		}
	}
	return q, bs, nil
}

// Check returns o with its defaults, or a *ParamError for a value out of bounds.
func (o Options) Check() (Options, error) {
	switch {
	case o.Limit == 0:
		o.Limit = DefaultLimit
	case o.Limit < 0 || o.Limit > MaxLimit:
		return o, &ParamError{Param: "limit", Reason: fmt.Sprintf("want 1 to %d", MaxLimit)}
	}
	switch {
	case o.DueWithin == 0:
		o.DueWithin = DefaultDueIn
	case o.DueWithin < 0 || o.DueWithin > MaxDueIn:
		return o, &ParamError{Param: "due_within", Reason: "want a positive duration of at most 366 days"}
	}
	switch {
	case o.StaleAfter == 0:
		o.StaleAfter = DefaultStale
	case o.StaleAfter < 0 || o.StaleAfter > MaxStale:
		return o, &ParamError{Param: "stale_after", Reason: "want a positive duration of at most ten years"}
	}
	return o, nil
}

// Score is an asset's risk score from its points in thousandths and its criticality factor:
// min(100, points × factor), as projections/assets explains it.
func Score(pointsMilli int64, factor float64) float64 {
	return math.Min(100, float64(pointsMilli)/1000*factor)
}

// NearestRank is the 1-based rank of the p-th percentile (p in percent) of n sorted values:
// ceil(p·n/100), in integers so that SQL computes the same.
func NearestRank(p, n int) int { return (p*n + 99) / 100 }

// EPSSBounds are the lower bounds of the EPSS distribution's ten buckets (i/10): backends
// compare with these very values so that a score on a boundary falls in the same bucket.
func EPSSBounds() []float64 {
	b := make([]float64, 11)
	for i := range b {
		b[i] = float64(i) / 10
	}
	return b
}
