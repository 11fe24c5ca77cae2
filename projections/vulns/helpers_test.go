package vulns_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/assets"
	"github.com/socplatform/soc/projections/scans"
	"github.com/socplatform/soc/projections/vulns"
)

var (
	regOnce sync.Once
	reg     *events.Registry
)

// registry is the real event registry: every event a test builds is validated against the
// published schemas, so test data cannot drift from what producers append.
func registry(tb testing.TB) *events.Registry {
	tb.Helper()
	// Loaded once: benchmarks build many generators, and no test here registers types of its own.
	regOnce.Do(func() { reg = eventstest.Registry(tb) })
	if reg == nil {
		tb.Fatal("the event registry failed to load (see the first test that needed it)")
	}
	return reg
}

// uuidN is a deterministic, well-formed UUID for test ids.
func uuidN(kind, n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", kind, n)
}

func assetID(n int) string   { return "assets-asset-" + uuidN(1, n) }
func findingID(n int) string { return "vulns-finding-" + uuidN(2, n) }
func cveStream(n int) string { return "vulns-cve-" + uuidN(3, n) }
func scanUUID(n int) string  { return uuidN(4, n) }

// gen builds envelopes as a store would: per-stream versions from 1, global positions, times.
type gen struct {
	tb       testing.TB
	reg      *events.Registry
	validate bool
	pos      int64
	versions map[string]int64
	base     time.Time
	checked  map[string]bool // with validate=false: the first event of each type is still validated
}

func newGen(tb testing.TB) *gen {
	return &gen{tb: tb, reg: registry(tb), validate: true, versions: map[string]int64{},
		base: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), checked: map[string]bool{}}
}

// at is the time of the n-th event (one second apart, so ordering by time is unambiguous).
func (g *gen) at(pos int64) time.Time { return g.base.Add(time.Duration(pos) * time.Second) }

func (g *gen) ev(stream, typ string, data any) events.Envelope {
	g.tb.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		g.tb.Fatal(err)
	}
	if g.validate || !g.checked[typ] {
		g.checked[typ] = true
		if _, err := g.reg.Validate(0, typ, 1, b); err != nil {
			g.tb.Fatalf("%s %s does not match its schema: %v", typ, b, err)
		}
	}
	g.pos++
	g.versions[stream]++
	t := g.at(g.pos)
	return events.Envelope{
		EventID: fmt.Sprintf("0190%04x-0000-7000-8000-%012x", g.pos>>48, g.pos), StreamID: stream,
		StreamType: events.StreamTypeOf(stream), Version: g.versions[stream], GlobalPosition: g.pos, Type: typ,
		SchemaVersion: 1, OccurredAt: t, RecordedAt: t.Add(time.Millisecond), Actor: "user:alice", Data: b,
	}
}

type obj = map[string]any

func (g *gen) registerAsset(n int, name, criticality string) events.Envelope {
	d := obj{"kind": "host", "name": name, "identifiers": obj{"hostnames": []string{fmt.Sprintf("host-%d.example.com", n)}}}
	if criticality != "" {
		d["criticality"] = criticality
	}
	return g.ev(assetID(n), "AssetRegistered", d)
}

type findingSpec struct {
	n        int
	asset    int
	title    string
	severity string
	cves     []string
	cwes     []string
	cvss     float64
	scan     string
	scanner  string
	format   string
}

func (g *gen) openFinding(s findingSpec) events.Envelope {
	if s.format == "" {
		s.format = "trivy"
	}
	if s.scan == "" {
		s.scan = scanUUID(1)
	}
	if s.title == "" {
		s.title = fmt.Sprintf("Finding %d", s.n)
	}
	if s.scanner == "" {
		s.scanner = "Trivy"
	}
	fp := fmt.Sprintf("fp-%d", s.n)
	d := obj{
		"asset_id": assetID(s.asset), "scope": assetID(s.asset) + "|" + s.format,
		"identity_key": assetID(s.asset) + "|" + s.format + "|" + fp, "fingerprint": fp,
		"scan_id": s.scan, "format": s.format, "scanner": s.scanner, "title": s.title, "severity": s.severity,
		"component": obj{"name": "openssl", "version": "3.0.1"}, "seen_at": g.at(g.pos + 1).Format(time.RFC3339Nano),
	}
	if len(s.cves) > 0 {
		d["cves"] = s.cves
	}
	if len(s.cwes) > 0 {
		d["cwes"] = s.cwes
	}
	if s.cvss > 0 {
		d["cvss"] = []obj{{"version": "3.1", "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "score": s.cvss}}
	}
	return g.ev(findingID(s.n), "FindingOpened", d)
}

// setup creates ps at generation 1 and points the views at it, as the runner does for a new
// projection.
func setup(tb testing.TB, db *projections.DB, ps ...projections.Projection) {
	tb.Helper()
	createGen(tb, db, 1, true, ps...)
}

func createGen(tb testing.TB, db *projections.DB, gen int64, views bool, ps ...projections.Projection) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.Begin(ctx, gen)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	for _, p := range ps {
		if err := p.Create(ctx, tx); err != nil {
			tb.Fatalf("%s.Create: %v", p.Name(), err)
		}
		if views {
			if err := projections.PointViews(ctx, tx, p); err != nil {
				tb.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// feed applies evs to every projection in batches of size, one transaction per batch and
// projection, giving each projection only the events of its contexts (as the runner does).
func feed(tb testing.TB, db *projections.DB, gen int64, size int, evs []events.Envelope, ps ...projections.Projection) []projections.Change {
	tb.Helper()
	var all []projections.Change
	for start := 0; start < len(evs); start += size {
		chunk := evs[start:min(len(evs), start+size)]
		for _, p := range ps {
			ch, err := applyBatch(db, gen, p, chunk)
			if err != nil {
				tb.Fatalf("%s.Apply: %v", p.Name(), err)
			}
			all = append(all, ch...)
		}
	}
	return all
}

func applyBatch(db *projections.DB, gen int64, p projections.Projection, evs []events.Envelope) ([]projections.Change, error) {
	ctx := context.Background()
	var mine []events.Envelope
	for _, e := range evs {
		for _, c := range p.Contexts() {
			if e.Context() == c {
				mine = append(mine, e)
			}
		}
	}
	if len(mine) == 0 {
		return nil, nil
	}
	tx, err := db.Begin(ctx, gen)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ch, err := p.Apply(ctx, tx, mine)
	if err != nil {
		return nil, err
	}
	return ch, tx.Commit()
}

func all() []projections.Projection {
	return []projections.Projection{assets.NewProjection(), vulns.NewFindingsProjection(), scans.NewProjection(), vulns.NewCVEsProjection()}
}

// setupAll sets db up (setup) for all the read side's projections and returns them.
func setupAll(tb testing.TB, db *projections.DB) []projections.Projection {
	tb.Helper()
	ps := all()
	setup(tb, db, ps...)
	return ps
}

func ptr[T any](v T) *T { return &v }

// foldIsRow checks that the point-in-time fold of evs is row, once align has made the two agree
// on what the fold cannot know (what other streams and the reading time add).
func foldIsRow[R any](t *testing.T, fold func([]events.Envelope) (*R, error), evs []events.Envelope, row *R, align func(folded *R)) {
	t.Helper()
	folded, err := fold(evs)
	if err != nil {
		t.Fatal(err)
	}
	align(folded)
	if !reflect.DeepEqual(folded, row) {
		t.Errorf("the fold is not the row\n got %+v\nrow  %+v", folded, row)
	}
}
