// Package analyticstest is the contract suite of the analytics read model: every backend
// (the embedded SQL one, ClickHouse) passes Run, which feeds it scenarios built from real event
// payloads (contracts types, validated against the published schemas, on a controlled clock)
// and checks every Reader method, under every filter kind, team scope and bucket unit, against
// an independent oracle (oracle.go: a naive walk of the scenario's own timeline) and against
// numbers computed by hand for a small scenario.
package analyticstest

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/analytics"
	"github.com/socplatform/soc/projections/ownership"
	"github.com/socplatform/soc/schemas/contracts"
)

// Backend is an analytics backend under test: a Reader over a fresh, empty model that Apply
// feeds (one call per batch, as the runner or consumer would; a batch may be delivered again).
type Backend interface {
	analytics.Reader
	Apply(ctx context.Context, batch []events.Envelope) error
}

// Start is when the scenarios begin: a Monday, four weeks before Europe/Paris moves to summer
// time, so day, week and month buckets cross a DST change.
var Start = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// Run runs the suite; open returns a new, empty backend for each subtest.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	t.Run("small", func(t *testing.T) { testSmall(t, open(t)) })
	t.Run("oracle", func(t *testing.T) {
		l := NewLog(t, Start)
		Random(l, 1, 12, 500)
		nonTrivial(t, l.Events, richQueries())
		b := open(t)
		feed(t, b, l.Events, 1000, false)
		compareAll(t, b, l.Events, richQueries(), true)
	})
	t.Run("batch boundaries and redelivery", func(t *testing.T) {
		l := NewLog(t, Start)
		Random(l, 2, 8, 250)
		o := newOracle(t, l.Events)
		qs := richQueries()[:6]
		for _, c := range []struct {
			name  string
			size  int
			twice bool
		}{{"one by one", 1, false}, {"by 13, twice", 13, true}, {"by 97, twice", 97, true}} {
			t.Run(c.name, func(t *testing.T) {
				b := open(t)
				feed(t, b, l.Events, c.size, c.twice)
				compareWith(t, b, o, qs)
			})
		}
	})
	t.Run("random", func(t *testing.T) {
		if testing.Short() {
			t.Skip("a few thousand events: not in -short")
		}
		l := NewLog(t, Start)
		l.ValidateFirstOnly()
		Random(l, 42, 40, 3000)
		b := open(t)
		feed(t, b, l.Events, 500, false)
		q := analytics.Query{From: Start, To: l.Now.Add(time.Hour), Unit: analytics.Week, Now: l.Now}
		scoped := q
		scoped.Scope = ownership.Scope{"red"}
		compareAll(t, b, l.Events, []analytics.Query{q, scoped}, false)
	})
	t.Run("bad parameters", func(t *testing.T) { testParams(t, open(t)) })
	t.Run("poison event", func(t *testing.T) {
		l := NewLog(t, Start)
		seen := l.Seen(1, 1, "", "") // before its FindingOpened
		var ee *projections.EventError
		if err := open(t).Apply(context.Background(), []events.Envelope{seen}); !errors.As(err, &ee) || ee.Event.EventID != seen.EventID {
			t.Errorf("Apply(FindingSeen before FindingOpened) = %v, want a *projections.EventError for it (the runner parks on it)", err)
		}
	})
}

// Compare checks r, a model fed with evs (as the store recorded them) by other means than
// Backend.Apply — a runner, a rebuild — against the oracle: Position and every Reader method
// over a set of filters and units.
func Compare(t *testing.T, r analytics.Reader, evs []events.Envelope) {
	t.Helper()
	qs := richQueries()
	compareAll(t, r, evs, []analytics.Query{qs[0], qs[3], qs[8], qs[12]}, true)
}

// feed applies evs to b in batches of size (each twice when twice).
func feed(t *testing.T, b Backend, evs []events.Envelope, size int, twice bool) {
	t.Helper()
	ctx := context.Background()
	for start := 0; start < len(evs); start += size {
		batch := evs[start:min(len(evs), start+size)]
		for k := 0; k < 1+boolInt(twice); k++ {
			if err := b.Apply(ctx, batch); err != nil {
				t.Fatalf("Apply(events %d…): %v", start, err)
			}
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// richQueries are the queries of the oracle scenario: each filter kind, scopes with and without
// teams and empty, each unit, UTC and Europe/Paris. Now and the range are set by compareAll.
func richQueries() []analytics.Query {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	var qs []analytics.Query
	for _, f := range []analytics.Filter{
		{},
		{Severities: []string{"critical", "high"}},
		{Scanners: []string{"nessus"}},
		{Teams: []string{"red"}},
		{Environments: []string{"production", "staging"}},
		{AssetKinds: []string{"container_image"}},
		{Tags: []string{"pci"}},
		{Tags: []string{"internet", "pci"}, Severities: []string{"medium"}},
		{Scope: ownership.Scope{"red"}},
		{Scope: ownership.Scope{"blue", "green"}, Scanners: []string{"trivy", "zap"}},
		{Scope: ownership.Scope{}},
	} {
		qs = append(qs, analytics.Query{Filter: f, Unit: analytics.Week})
	}
	qs = append(qs,
		analytics.Query{Unit: analytics.Day, Location: paris},
		analytics.Query{Unit: analytics.Month, Location: paris},
		analytics.Query{Unit: analytics.Day},
		analytics.Query{Filter: analytics.Filter{Teams: []string{"blue"}}, Unit: analytics.Month},
	)
	return qs
}

// compareAll checks every Reader method of b against the oracle of evs for each query (From,
// To and Now spanning the scenario when unset).
func compareAll(t *testing.T, b analytics.Reader, evs []events.Envelope, qs []analytics.Query, position bool) {
	t.Helper()
	o := newOracle(t, evs)
	if position {
		p, err := b.Position(context.Background())
		if err != nil || p != o.last {
			t.Errorf("Position = %d, %v; want %d", p, err, o.last)
		}
	}
	compareWith(t, b, o, qs)
}

func compareWith(t *testing.T, b analytics.Reader, o *oracle, qs []analytics.Query) {
	t.Helper()
	first, last := o.evs[0].OccurredAt, o.evs[len(o.evs)-1].OccurredAt
	ctx := context.Background()
	for i, q := range qs {
		if q.From.IsZero() {
			q.From, q.To, q.Now = first, last.Add(time.Hour), last.Add(30*time.Minute)
		}
		opt := analytics.Options{Limit: 5, DueWithin: 10 * 24 * time.Hour, StaleAfter: 20 * 24 * time.Hour}
		name := func(m string) string {
			js, _ := json.Marshal(q.Filter)
			return m + " of query " + string(rune('A'+i)) + " " + string(q.Unit) + " " + string(js) + " scope " + scopeString(q.Scope)
		}
		check(t, name("OpenFindings"), o.openFindings(t, q))(b.OpenFindings(ctx, q))
		check(t, name("Flow"), o.flow(t, q))(b.Flow(ctx, q))
		check(t, name("MTTR"), o.mttr(t, q))(b.MTTR(ctx, q))
		check(t, name("SLA"), o.sla(t, q, opt))(b.SLA(ctx, q, opt))
		want := o.risk(t, q, opt)
		check(t, name("Risk"), want)(b.Risk(ctx, q, opt))
		check(t, name("TopAssets"), want.TopAssets)(b.TopAssets(ctx, q, opt))
		check(t, name("Exploitability"), o.exploitability(t, q, opt))(b.Exploitability(ctx, q, opt))
		check(t, name("Coverage"), o.coverage(t, q, opt))(b.Coverage(ctx, q, opt))
	}
}

func scopeString(s ownership.Scope) string {
	if s == nil {
		return "all"
	}
	js, _ := json.Marshal([]string(s))
	return string(js)
}

// check returns a function comparing a Reader answer with want: equal once both are
// normalised (JSON, risk scores — sums of floats in an order the backend chooses — rounded to
// 1e-6).
func check[T any](t *testing.T, what string, want T) func(got T, err error) {
	t.Helper()
	return func(got T, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		g, w := normalise(t, got), normalise(t, want)
		if !reflect.DeepEqual(g, w) {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(w)
			t.Errorf("%s:\n got %s\nwant %s", what, gj, wj)
		}
	}
}

func normalise(t *testing.T, v any) any {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(js, &out); err != nil {
		t.Fatal(err)
	}
	return roundFloats(out)
}

func roundFloats(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = roundFloats(e)
		}
	case []any:
		for i, e := range x {
			x[i] = roundFloats(e)
		}
	case float64:
		return math.Round(x*1e6) / 1e6
	}
	return v
}

func testParams(t *testing.T, b Backend) {
	ctx := context.Background()
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	q := analytics.Query{From: day, To: day.Add(24 * time.Hour), Unit: analytics.Day, Now: day}
	bad := []struct {
		param string
		call  func() error
	}{
		{"bucket", func() error { q := q; q.Unit = "year"; _, err := b.OpenFindings(ctx, q); return err }},
		{"from", func() error { q := q; q.To = q.From; _, err := b.Flow(ctx, q); return err }},
		{"to", func() error { q := q; q.To = q.From.AddDate(5, 0, 0); _, err := b.MTTR(ctx, q); return err }},
		{"severities", func() error {
			q := q
			q.Severities = []string{"urgent"}
			_, err := b.SLA(ctx, q, analytics.Options{})
			return err
		}},
		{"teams", func() error {
			q := q
			q.Teams = make([]string, analytics.MaxFilterValues+1)
			for i := range q.Teams {
				q.Teams[i] = string(rune('a' + i%26))
			}
			_, err := b.Risk(ctx, q, analytics.Options{})
			return err
		}},
		{"limit", func() error {
			_, err := b.TopAssets(ctx, q, analytics.Options{Limit: analytics.MaxLimit + 1})
			return err
		}},
		{"due_within", func() error { _, err := b.SLA(ctx, q, analytics.Options{DueWithin: -time.Hour}); return err }},
		{"stale_after", func() error { _, err := b.Coverage(ctx, q, analytics.Options{StaleAfter: -time.Hour}); return err }},
		{"limit", func() error { _, err := b.Exploitability(ctx, q, analytics.Options{Limit: -1}); return err }},
	}
	for _, c := range bad {
		var pe *analytics.ParamError
		if err := c.call(); !errors.As(err, &pe) || pe.Param != c.param {
			t.Errorf("bad %s: err = %v, want a *ParamError naming it", c.param, err)
		}
	}
	// An empty model answers with zeros, every severity key present.
	got, err := b.OpenFindings(ctx, q)
	if err != nil || len(got) != 1 || got[0].Total != 0 || len(got[0].BySeverity) != 5 {
		t.Errorf("OpenFindings on an empty model = %+v, %v", got, err)
	}
}

// nonTrivial fails when a scenario would let a backend pass without doing the work: an event
// kind missing, an answer the oracle gives that is all zeros, a filter that changes nothing.
func nonTrivial(t *testing.T, evs []events.Envelope, qs []analytics.Query) {
	t.Helper()
	kinds := map[string]bool{}
	for _, e := range evs {
		kinds[e.Type+"."+strconv.Itoa(e.SchemaVersion)] = true
		if e.Type == contracts.TypeFindingSeen && strings.Contains(string(e.Data), "previous_severity") {
			kinds["severity change"] = true
		}
	}
	for _, k := range []string{"FindingOpened.1", "FindingOpened.2", "FindingSeen.1", "severity change", "FindingTriaged.1",
		"FindingRemediationStarted.1", "FindingResolved.1", "FindingClosed.1", "FindingReopened.1", "FindingRiskAccepted.1",
		"FindingMarkedFalsePositive.1", "FindingMarkedDuplicate.1", "FindingDueDateSet.1", "FindingExploitabilityChanged.1",
		"SLABreached.1", "FindingAssigned.1", "FindingCommented.1", "AssetRegistered.1", "AssetClassified.1", "AssetUpdated.1",
		"AssetMergedInto.1", "AssetMerged.1", "ScanImportCompleted.1", "ScanImportCompleted.2", "ScanImportFailed.1"} {
		if !kinds[k] {
			t.Errorf("the scenario has no %s", k)
		}
	}
	o := newOracle(t, evs)
	first, last := evs[0].OccurredAt, evs[len(evs)-1].OccurredAt
	opt := analytics.Options{Limit: 5, DueWithin: 10 * 24 * time.Hour, StaleAfter: 20 * 24 * time.Hour}
	at := func(q analytics.Query) analytics.Query {
		q.From, q.To, q.Now = first, last.Add(time.Hour), last.Add(30*time.Minute)
		return q
	}
	q := at(qs[0])
	m, sla, x, c := o.mttr(t, q), o.sla(t, q, opt), o.exploitability(t, q, opt), o.coverage(t, q, opt)
	var breaches, within int64
	for _, p := range sla.Periods {
		breaches += p.Breaches
		within += p.WithinSLA
	}
	if m.Remediate.Count < 5 || m.Triage.Count < 5 || breaches == 0 || within == 0 || sla.Overdue == 0 || sla.DueSoon == 0 ||
		x.OpenKEV == 0 || x.KEVOverdue == 0 || x.NoEPSS == 0 || len(c.Scanners) < 3 || c.Scanners[0].Stale == 0 {
		t.Errorf("the scenario leaves answers empty: mttr %+v, sla %+v, exploitability %+v, coverage %+v", m, sla, x, c)
	}
	base, _ := json.Marshal(o.openFindings(t, q))
	for _, f := range qs[1:] {
		if f.Unit != qs[0].Unit {
			continue
		}
		got, _ := json.Marshal(o.openFindings(t, at(f)))
		if string(got) == string(base) {
			js, _ := json.Marshal(f.Filter)
			t.Errorf("filter %s scope %s changes nothing in the scenario", js, scopeString(f.Scope))
		}
	}
}
