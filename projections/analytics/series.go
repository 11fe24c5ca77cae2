package analytics

import "github.com/socplatform/soc/projections/vulns"

// OpenSeries is the open findings at the end of each bucket of bs, from the sums of the facts'
// open deltas by severity that a backend computed per bucket: delta[0] holds the sums before
// the first bucket, delta[i+1] those of bucket i (a nil map is no change). Every backend sums
// in its store and runs the sums here, so the series add up alike.
func OpenSeries(bs []Bucket, delta []map[string]int64) []OpenPoint {
	out := make([]OpenPoint, len(bs))
	run := vulns.ZeroCounts()
	for sev, n := range delta[0] {
		run[sev] += n
	}
	for i, b := range bs {
		for sev, n := range delta[i+1] {
			run[sev] += n
		}
		p := OpenPoint{Bucket: b, BySeverity: vulns.ZeroCounts()}
		for _, sev := range Severities {
			p.BySeverity[sev] = run[sev]
			p.Total += run[sev]
		}
		out[i] = p
	}
	return out
}

// PrepareAll checks a query and its options as every backend's Reader does first: o.Check,
// then Prepare.
func PrepareAll(q Query, o Options) (Query, Options, []Bucket, error) {
	o, err := o.Check()
	if err != nil {
		return q, o, nil, err
	}
	q, bs, err := Prepare(q)
	return q, o, bs, err
}
