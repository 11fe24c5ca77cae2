package catalogue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/feeds"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/schemas/contracts"
)

const log4shell = "CVE-2021-44228"

func kevCatalogue(tb testing.TB) string {
	return filepath.Join(testsupport.SharedTestdata(tb, "kev"), "known_exploited_vulnerabilities_2025.08.25.json")
}

// TestImportSharedTestdata imports every shared NVD, KEV and EPSS file, then again: the second
// round (by a Catalogue rebuilt from $all) appends nothing.
func TestImportSharedTestdata(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	ctx := context.Background()
	type result struct {
		feed, path string
		sum        Summary
	}
	var results []result
	for round := 0; round < 2; round++ {
		c := loaded(t, store) // round 2: rebuilt from $all
		before := eventstest.Head(t, store)
		for _, feed := range []string{"nvd", "kev", "epss"} {
			files, err := filepath.Glob(filepath.Join(testsupport.SharedTestdata(t, feed), "*"))
			if err != nil || len(files) == 0 {
				t.Fatalf("no %s files: %v", feed, err)
			}
			slices.Sort(files)
			for _, path := range files {
				h := eventstest.Head(t, store)
				sum, err := importFile(t, c, feed, path)
				if strings.HasSuffix(path, "known_exploited_vulnerabilities_schema.json") {
					var pe *feeds.ParseError
					if !errors.As(err, &pe) || !errors.Is(err, feeds.ErrUnknownFormat) {
						t.Fatalf("%s: want a *feeds.ParseError (unknown format), got %v", path, err)
					}
					if got := eventstest.Head(t, store); got != h {
						t.Fatalf("%s: a refused file appended %d events", path, got-h)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if sum.Records == 0 {
					t.Errorf("%s: no records", path)
				}
				if round == 0 {
					results = append(results, result{feed, filepath.Base(path), sum})
					continue
				}
				if sum.CVEsNew+sum.CVEsUpdated+sum.KEVListed+sum.EPSSChanged+sum.FindingsEnriched != 0 {
					t.Errorf("%s: re-import changed something: %+v", path, sum)
				}
				// The 2025 EPSS file is older than the 2026 one imported after it: its rows are stale.
				if strings.Contains(path, "2025-02-20") && !slices.ContainsFunc(sum.Warnings, func(w feeds.Warning) bool { return w.Code == WarnStale }) {
					t.Errorf("%s: no stale warning: %+v", path, sum.Warnings)
				}
			}
		}
		if round == 1 {
			if got := eventstest.Head(t, store); got != before {
				t.Fatalf("re-importing every file appended %d events", got-before)
			}
		}
	}
	for _, r := range results {
		t.Logf("%s %s: records %d new %d updated %d kev %d epss %d warnings %d", r.feed, r.path, r.sum.Records,
			r.sum.CVEsNew, r.sum.CVEsUpdated, r.sum.KEVListed, r.sum.EPSSChanged, len(r.sum.Warnings))
		switch r.feed {
		case "nvd":
			if r.sum.CVEsNew == 0 {
				t.Errorf("%s: no CVEPublished", r.path)
			}
		case "kev":
			if r.sum.KEVListed == 0 {
				t.Errorf("%s: no CVEListedInKEV", r.path)
			}
		case "epss":
			if r.sum.EPSSChanged == 0 {
				t.Errorf("%s: no CVEEPSSScored", r.path)
			}
		}
	}
	// A CVE from the NVD page carries its record; CVE-2024-0012 (NVD with cisa* data) is listed once.
	if got := testsupport.StreamTypes(t, store, StreamID("CVE-2024-0012")); !slices.Equal(got, []string{contracts.TypeCVEPublished, contracts.TypeCVEListedInKEV}) {
		t.Errorf("CVE-2024-0012 stream: %v", got)
	}
	evs, err := store.ReadStream(ctx, StreamID("CVE-2024-0012"), events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var pub struct {
		ID           string `json:"id"`
		LastModified string `json:"last_modified"`
		Ratings      []struct {
			Version   string  `json:"version"`
			BaseScore float64 `json:"base_score"`
		} `json:"ratings"`
		References []string `json:"references"`
	}
	if err := json.Unmarshal(evs[0].Data, &pub); err != nil {
		t.Fatal(err)
	}
	if pub.ID != "CVE-2024-0012" || pub.LastModified == "" || len(pub.Ratings) == 0 || pub.Ratings[0].Version != "4.0" || len(pub.References) == 0 {
		t.Errorf("CVEPublished data: %+v", pub)
	}
	// The EPSS head100 file rescored the rows of the 5-row file: CVE-1999-0001 has two scores.
	if got := testsupport.StreamTypes(t, store, StreamID("CVE-1999-0001")); !slices.Equal(got, []string{contracts.TypeCVEEPSSScored, contracts.TypeCVEEPSSScored}) {
		t.Errorf("CVE-1999-0001 stream: %v", got)
	}
}

// TestNVDUpdatedOnlyWhenNewer: a record with a newer lastModified appends CVEUpdated; the same or
// an older one appends nothing.
func TestNVDUpdatedOnlyWhenNewer(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	c := loaded(t, store)
	rec := func(lastModified, desc string) *strings.Reader {
		return strings.NewReader(`{"cve":{"id":"CVE-2099-0001","published":"2099-01-01T00:00:00.000",` +
			`"lastModified":"` + lastModified + `","vulnStatus":"Analyzed",` +
			`"descriptions":[{"lang":"en","value":"` + desc + `"}]}}`)
	}
	ctx := context.Background()
	for i, step := range []struct {
		lm, desc           string
		wantNew, wantUpdat int
	}{
		{"2099-01-02T00:00:00.000", "first", 1, 0},
		{"2099-01-02T00:00:00.000", "first", 0, 0},
		{"2099-01-03T00:00:00.000", "second", 0, 1},
		{"2099-01-02T12:00:00.000", "older", 0, 0},
	} {
		sum, err := c.Import(ctx, "nvd", rec(step.lm, step.desc))
		if err != nil {
			t.Fatal(err)
		}
		if sum.CVEsNew != step.wantNew || sum.CVEsUpdated != step.wantUpdat {
			t.Errorf("step %d: %+v", i, sum)
		}
	}
	if got := testsupport.StreamTypes(t, store, StreamID("CVE-2099-0001")); !slices.Equal(got, []string{contracts.TypeCVEPublished, contracts.TypeCVEUpdated}) {
		t.Errorf("stream: %v", got)
	}
	// The feed loader is one of the platform's workers: its events carry a system actor.
	evs, err := store.ReadStream(ctx, StreamID("CVE-2099-0001"), events.ReadStreamOptions{})
	if err != nil || len(evs) == 0 || evs[0].Actor != "system:catalogue" {
		t.Fatalf("actor of the catalogue's events: %v %v", evs, err)
	}
}

// TestFindingEnrichedByKEVThenEPSS: a finding listing log4shell gets kev=true from the KEV import,
// then one event per EPSS change, and nothing when the same EPSS file is imported again.
func TestFindingEnrichedByKEVThenEPSS(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	ctx := context.Background()
	finding := openFinding(t, store, "app1", log4shell)
	other := openFinding(t, store, "app2", "CVE-2099-9999") // in no feed: never enriched
	c := loaded(t, store)

	sum, err := importFile(t, c, "kev", kevCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	if sum.KEVListed != 1404 || sum.FindingsEnriched != 1 {
		t.Errorf("KEV import: %+v", sum)
	}
	got, md := exploitabilityEvents(t, store, finding)
	if len(got) != 1 || got[0].KEV == nil || !*got[0].KEV || got[0].EPSS != nil || got[0].Source != "kev" {
		t.Fatalf("after KEV: %+v", got)
	}
	if md[0]["cve"] != log4shell || md[0]["feed"] != "kev" {
		t.Errorf("metadata: %v", md[0])
	}

	epss := func(score, pct string) string {
		return "#model_version:v2025.03.14,score_date:2026-10-01T00:00:00+0000\ncve,epss,percentile\n" +
			log4shell + "," + score + "," + pct + "\nCVE-1999-0001,0.1,0.5\n"
	}
	for i, step := range []struct {
		file                 string
		wantChanged, wantEnr int
	}{
		{epss("0.94358", "0.99957"), 2, 1},
		{epss("0.94358", "0.99957"), 0, 0}, // same file again: nothing
		{epss("0.97", "0.9999"), 1, 1},
	} {
		sum, err := c.Import(ctx, "epss", strings.NewReader(step.file))
		if err != nil {
			t.Fatal(err)
		}
		if sum.EPSSChanged != step.wantChanged || sum.FindingsEnriched != step.wantEnr {
			t.Errorf("EPSS step %d: %+v", i, sum)
		}
	}
	got, _ = exploitabilityEvents(t, store, finding)
	if len(got) != 3 {
		t.Fatalf("want 3 FindingExploitabilityChanged, got %+v", got)
	}
	if e := got[1]; !*e.KEV || *e.EPSS != 0.94358 || *e.EPSSPercentile != 0.99957 || e.Source != "epss" {
		t.Errorf("second event: kev %v epss %v pct %v source %s", *e.KEV, *e.EPSS, *e.EPSSPercentile, e.Source)
	}
	if e := got[2]; *e.EPSS != 0.97 || *e.EPSSPercentile != 0.9999 {
		t.Errorf("third event: epss %v pct %v", *e.EPSS, *e.EPSSPercentile)
	}
	if evs, _ := exploitabilityEvents(t, store, other); len(evs) != 0 {
		t.Errorf("a finding of an unknown CVE was enriched: %+v", evs)
	}
	f, ok := c.Finding(finding)
	if !ok || !f.KEV || *f.EPSS != 0.97 {
		t.Errorf("Finding: %+v", f)
	}
	// A Catalogue rebuilt from $all agrees that nothing is left to do.
	h := eventstest.Head(t, store)
	c2 := loaded(t, store)
	if n, err := c2.EnrichNew(ctx); err != nil || n != 0 {
		t.Errorf("EnrichNew after rebuild: %d, %v", n, err)
	}
	if eventstest.Head(t, store) != h {
		t.Error("rebuilt catalogue appended")
	}
}

// TestEnrichNewFindingOpenedAfterImport: a finding opened after the feeds were imported is
// enriched by EnrichNew, once.
func TestEnrichNewFindingOpenedAfterImport(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	ctx := context.Background()
	c := loaded(t, store)
	if _, err := importFile(t, c, "kev", kevCatalogue(t)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Import(ctx, "epss", strings.NewReader("cve,epss,percentile\n"+log4shell+",0.9,0.99\nCVE-2014-0160,0.5,0.7\n")); err != nil {
		t.Fatal(err)
	}
	// Two CVEs: kev from log4shell, the highest EPSS and percentile of both.
	finding := openFinding(t, store, "late", "cve-2014-0160", log4shell)
	n, err := c.EnrichNew(ctx)
	if err != nil || n != 1 {
		t.Fatalf("EnrichNew: %d, %v", n, err)
	}
	got, md := exploitabilityEvents(t, store, finding)
	if len(got) != 1 || !*got[0].KEV || *got[0].EPSS != 0.9 || *got[0].EPSSPercentile != 0.99 || got[0].Source != "kev+epss" {
		t.Fatalf("after EnrichNew: %+v", got)
	}
	if cves, _ := md[0]["cves"].([]any); len(cves) != 2 {
		t.Errorf("metadata: %v", md[0])
	}
	if n, err := c.EnrichNew(ctx); err != nil || n != 0 {
		t.Errorf("second EnrichNew: %d, %v", n, err)
	}
	// Import runs EnrichNew at its end too.
	late2 := openFinding(t, store, "late2", log4shell)
	sum, err := c.Import(ctx, "epss", strings.NewReader("cve,epss,percentile\n"+log4shell+",0.9,0.99\n"))
	if err != nil || sum.FindingsEnriched != 1 || sum.EPSSChanged != 0 {
		t.Fatalf("import: %+v, %v", sum, err)
	}
	if got, _ := exploitabilityEvents(t, store, late2); len(got) != 1 {
		t.Errorf("late2: %+v", got)
	}
}

// TestMidwayFailureKeepsEarlierRecords: a stream failing at record 2 keeps records 0 and 1;
// re-running the fixed file appends only the rest.
func TestMidwayFailureKeepsEarlierRecords(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	ctx := context.Background()
	c := loaded(t, store)
	bad := "cve,epss,percentile\nCVE-2099-0001,0.1,0.2\nCVE-2099-0002,0.3,0.4\nCVE-2099-0003,1.5,0.5\nCVE-2099-0004,0.1,0.1\n"
	sum, err := c.Import(ctx, "epss", strings.NewReader(bad))
	var pe *feeds.ParseError
	if !errors.As(err, &pe) || pe.Line != 4 || pe.Record != 2 || pe.Field != "epss" {
		t.Fatalf("want a ParseError at line 4, record 2, field epss: %v", err)
	}
	if sum.Records != 2 || sum.EPSSChanged != 2 || eventstest.Head(t, store) != 2 {
		t.Fatalf("kept: %+v, head %d", sum, eventstest.Head(t, store))
	}
	sum, err = c.Import(ctx, "epss", strings.NewReader(strings.Replace(bad, "1.5", "0.5", 1)))
	if err != nil || sum.Records != 4 || sum.EPSSChanged != 2 || eventstest.Head(t, store) != 4 {
		t.Fatalf("re-run: %+v, %v, head %d", sum, err, eventstest.Head(t, store))
	}
	// Nothing at all for a file that fails at its start.
	for feed, in := range map[string]string{"nvd": `{"format":"OTHER"}`, "kev": `[1,2]`, "epss": "a,b\n"} {
		if _, err := c.Import(ctx, feed, strings.NewReader(in)); !errors.As(err, &pe) {
			t.Errorf("%s: want a ParseError, got %v", feed, err)
		}
	}
	if eventstest.Head(t, store) != 4 {
		t.Error("a file refused at its start appended")
	}
	if _, err := c.Import(ctx, "osv", strings.NewReader("")); err == nil {
		t.Error("unknown feed accepted")
	}
}

// TestRetryIsIdempotentAtTheStore: a Catalogue that did not see an earlier import (as after a lost
// answer) appends the same event ids at the same versions, which the store answers as duplicates.
func TestRetryIsIdempotentAtTheStore(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	ctx := context.Background()
	finding := openFinding(t, store, "app", log4shell)
	stale := loaded(t, store)
	fresh := loaded(t, store)
	in := "cve,epss,percentile\n" + log4shell + ",0.9,0.99\nCVE-2099-0001,0.1,0.2\n"
	if _, err := fresh.Import(ctx, "epss", strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	h := eventstest.Head(t, store)
	// Bypass Import's catch-up: decide on the stale lookup, as a retry after a lost answer would.
	stale.mu.Lock()
	var sum Summary
	for _, s := range []feeds.EPSSScore{{CVEID: log4shell, EPSS: 0.9, Percentile: 0.99}, {CVEID: "CVE-2099-0001", EPSS: 0.1, Percentile: 0.2}} {
		if err := stale.importEPSS(ctx, s, &sum); err != nil {
			t.Fatal(err)
		}
	}
	stale.mu.Unlock()
	if sum.EPSSChanged != 2 || sum.FindingsEnriched != 1 {
		t.Errorf("stale decisions: %+v", sum)
	}
	if got := eventstest.Head(t, store); got != h {
		t.Fatalf("retry appended %d events", got-h)
	}
	if got, _ := exploitabilityEvents(t, store, finding); len(got) != 1 {
		t.Errorf("finding events: %+v", got)
	}
}

// TestVersionConflictOnFindingIsRetried: a scan import writing to a finding between the
// catalogue's sync and its append makes it re-read and decide again.
func TestVersionConflictOnFindingIsRetried(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	ctx := context.Background()
	finding := openFinding(t, store, "app", log4shell)
	c := loaded(t, store)
	// Another writer sets exploitability behind the catalogue's back (kev already true).
	kev := true
	data, _ := json.Marshal(map[string]any{"kev": kev, "source": "manual"})
	if _, err := store.Append(ctx, finding, events.Exact(1), []events.Envelope{{Type: contracts.TypeFindingExploitabilityChanged, Data: data}}); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	var sum Summary
	err := c.importKEV(ctx, feeds.KEVEntry{CVEID: log4shell, VulnerabilityName: "Log4Shell"}, &sum)
	c.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	// After the conflict the catalogue saw kev=true already stored: nothing more to append.
	if got, _ := exploitabilityEvents(t, store, finding); len(got) != 1 || sum.FindingsEnriched != 0 {
		t.Errorf("events %+v, summary %+v", got, sum)
	}
}

func TestRunCLI(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	ctx := context.Background()
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := RunCLI(ctx, args, &out, &errOut, store)
		return code, out.String(), errOut.String()
	}
	for _, args := range [][]string{nil, {"import"}, {"import", "osv", "x"}, {"export", "kev", "x"}, {"import", "kev", "a", "b"}} {
		if code, _, e := run(args...); code != 2 || !strings.Contains(e, "usage: soc feeds import") {
			t.Errorf("%q: exit %d, stderr %q", args, code, e)
		}
	}
	if code, out, _ := run("--help"); code != 0 || !strings.Contains(out, "usage") {
		t.Errorf("--help: %d", code)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("cve,epss,percentile\nCVE-2099-0001,zero,0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, e := run("import", "epss", bad); code != 1 || !strings.Contains(e, "line 2, column 15") {
		t.Errorf("bad file: exit %d, stderr %q", code, e)
	}
	if code, _, e := run("import", "epss", filepath.Join(dir, "missing.csv")); code != 1 || e == "" {
		t.Errorf("missing file: exit %d, stderr %q", code, e)
	}
	code, out, e := run("import", "kev", kevCatalogue(t))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, e)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(out), &sum); err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("output %q: %v", out, err)
	}
	for _, k := range []string{"feed", "records", "cves_new", "cves_updated", "kev_listed", "epss_changed", "findings_enriched", "warnings"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary lacks %s: %s", k, out)
		}
	}
	if sum["feed"] != "kev" || sum["records"] != float64(1404) || sum["kev_listed"] != float64(1404) {
		t.Errorf("summary: %s", out)
	}
}

// TestNVDRecordCutToBounds: lists beyond their maxItems and a long description are cut, with the
// full counts and a warning.
func TestNVDRecordCutToBounds(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	c := loaded(t, store)
	var refs []string
	for i := range 250 {
		refs = append(refs, `{"url":"https://example.com/`+strings.Repeat("x", i%7)+string(rune('a'+i%26))+`/`+strings.Repeat("0", i/26)+`"}`)
	}
	in := `{"cve":{"id":"CVE-2099-0002","lastModified":"2099-01-02T00:00:00.000","descriptions":[{"lang":"en","value":"` +
		strings.Repeat("é", 20000) + `"}],"references":[` + strings.Join(refs, ",") + `]}}`
	sum, err := c.Import(context.Background(), "nvd", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if sum.CVEsNew != 1 || len(sum.Warnings) != 1 || sum.Warnings[0].Code != WarnTruncated ||
		!strings.Contains(sum.Warnings[0].Msg, "description, references") {
		t.Fatalf("summary: %+v", sum)
	}
	evs, err := store.ReadStream(context.Background(), StreamID("CVE-2099-0002"), events.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Description     string   `json:"description"`
		References      []string `json:"references"`
		ReferencesTotal int      `json:"references_total"`
	}
	if err := json.Unmarshal(evs[0].Data, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.References) != 200 || d.ReferencesTotal != 250 || len(d.Description) > 32768 ||
		!strings.HasSuffix(d.Description, truncatedMark) {
		t.Errorf("refs %d of %d, description %d bytes", len(d.References), d.ReferencesTotal, len(d.Description))
	}
}
