package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	assets "github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/schemas/contracts"
)

// formats are the formats whose reports the tests walk: every format with testdata.
var formats = importertest.Formats

// registerAsset registers a repository asset, for reports that do not identify their asset.
func registerAsset(t testing.TB, store *events.Guarded, repo string) string {
	t.Helper()
	id := events.NewStreamID("assets", "asset")
	var a assets.Asset
	changes, err := a.Register(assets.RegisterAsset{Kind: assets.Repository, Name: repo,
		Identifiers: assets.Identifiers{RepoURL: "https://git.example.com/" + repo}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := es.Save(context.Background(), store, id, events.NoStream, es.Meta{Actor: "test"}, changes); err != nil {
		t.Fatal(err)
	}
	return id
}

// uniqueFindings counts the distinct (asset key, fingerprint) pairs of a report.
func uniqueFindings(rep *importers.Report) int {
	m := map[string]struct{}{}
	for _, f := range rep.Findings {
		m[f.AssetKey+"\x00"+f.Fingerprint] = struct{}{}
	}
	return len(m)
}

func TestImportEveryTestdataFileTwice(t *testing.T) {
	eachReport(t, importReportTwice)
}

// TestImportDependencyFormatsTwice is TestImportEveryTestdataFileTwice for the formats whose
// files are also (pip-audit: only) the project's own samples.
func TestImportDependencyFormatsTwice(t *testing.T) {
	for _, format := range []string{"govulncheck", "npm-audit", "pip-audit", "github"} {
		for _, path := range importertest.Files(t, format) {
			t.Run(format+"/"+filepath.Base(path), func(t *testing.T) { importReportTwice(t, format, readFile(t, path)) })
		}
	}
}

// importReportTwice imports report b of format twice into a new store: everything new, then
// everything unchanged, with the events and summary to match.
func importReportTwice(t *testing.T, format string, b []byte) {
	rep := parse(t, format, b)
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	fallback := registerAsset(t, store, "fallback")
	im := newImporter(t, store)

	var progressed int
	first := importBytes(t, im, b, app.ImportScanReport{Format: "auto", Asset: fallback, Actor: "test",
		Progress: func(done, total int) { progressed = done }})
	if first.Format != format {
		t.Fatalf("detected %s, want %s", first.Format, format)
	}
	if first.FindingsTotal != len(rep.Findings) {
		t.Fatalf("findings_total %d, parser found %d", first.FindingsTotal, len(rep.Findings))
	}
	uniq := uniqueFindings(rep)
	if first.New != uniq || first.Skipped != len(rep.Findings)-uniq || first.Unchanged+first.Resolved+first.Reopened+first.Closed != 0 {
		t.Fatalf("first import: %+v (unique findings %d)", first, uniq)
	}
	if progressed != uniq {
		t.Errorf("progress reached %d, want %d", progressed, uniq)
	}
	bs := first.BySeverity
	if bs.Critical+bs.High+bs.Medium+bs.Low+bs.Info != len(rep.Findings) {
		t.Errorf("by_severity %+v does not add up to %d", bs, len(rep.Findings))
	}
	if first.AssetsDiscovered+first.AssetsMatched == 0 && len(rep.Assets) > 0 {
		t.Errorf("no asset discovered or matched: %+v", first)
	}

	second := importBytes(t, im, b, app.ImportScanReport{Asset: fallback})
	if second.New != 0 || second.Unchanged != uniq || second.Resolved != 0 || second.Reopened != 0 || second.Closed != 0 {
		t.Fatalf("second import: %+v, want unchanged=%d only", second, uniq)
	}
	if second.AssetsDiscovered != 0 {
		t.Errorf("second import discovered %d assets again", second.AssetsDiscovered)
	}
	evs := allEvents(t, store)
	n := countTypes(evs)
	if n[contracts.TypeScanImportFailed] != 0 || n[contracts.TypeScanImportCompleted] != 2 || n[contracts.TypeScanImportStarted] != 2 {
		t.Fatalf("scan events: %v", n)
	}
	if n[contracts.TypeFindingOpened] != uniq || n[contracts.TypeFindingSeen] != uniq {
		t.Fatalf("finding events %v, want %d opened and seen", n, uniq)
	}
	if n[contracts.TypeAssetRegistered] != 1+first.AssetsDiscovered {
		t.Fatalf("assets registered %d, summary says %d discovered", n[contracts.TypeAssetRegistered]-1, first.AssetsDiscovered)
	}
	// Every Completed event carries the summary.
	for _, e := range evs {
		if e.Type == contracts.TypeScanImportCompleted && e.Actor == "test" {
			var got app.Summary
			if err := json.Unmarshal(e.Data, &got); err != nil {
				t.Fatal(err)
			}
			if got.New != first.New || got.ScanID != first.ScanID {
				t.Errorf("ScanImportCompleted %+v, summary %+v", got, first)
			}
		}
	}
}

// detailedTrivy is the generated Trivy report these tests and the import benchmark use: with
// the fields the importer stores beyond identity, and one CWE for every finding.
var detailedTrivy = trivytest.Options{Detailed: true, CWE: "CWE-79"}

// trivyDoc is a decoded Trivy report the tests can edit.
type trivyDoc map[string]any

func decodeTrivy(t testing.TB, b []byte) trivyDoc {
	t.Helper()
	var d trivyDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// encode writes the report with SchemaVersion first, as Trivy does (format detection looks for it
// in the first 64 KiB; encoding/json would sort it last).
func (d trivyDoc) encode(t testing.TB) []byte {
	t.Helper()
	return trivytest.Encode(t, d)
}

// dropEvery removes every k-th vulnerability of every result and returns the modified report.
func dropEvery(t testing.TB, b []byte, k int) []byte {
	d := decodeTrivy(t, b)
	for _, r := range d["Results"].([]any) {
		res := r.(map[string]any)
		vs, _ := res["Vulnerabilities"].([]any)
		var kept []any
		for i, v := range vs {
			if i%k != 0 {
				kept = append(kept, v)
			}
		}
		if vs != nil {
			res["Vulnerabilities"] = kept
		}
	}
	return d.encode(t)
}

// findingIDs maps fingerprints to finding stream ids from the FindingOpened events.
func findingIDs(t testing.TB, store events.EventStore) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, e := range allEvents(t, store) {
		if e.Type == contracts.TypeFindingOpened {
			var d struct {
				Fingerprint string `json:"fingerprint"`
			}
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatal(err)
			}
			out[d.Fingerprint] = e.StreamID
		}
	}
	return out
}

func loadFinding(t testing.TB, store *events.Guarded, id string) (vulns.Finding, int64) {
	t.Helper()
	var f vulns.Finding
	v, err := es.Load(context.Background(), store, id, &f)
	if err != nil {
		t.Fatal(err)
	}
	return f, v
}

func statusOf(t testing.TB, store *events.Guarded, id string) vulns.Status {
	f, _ := loadFinding(t, store, id)
	return f.Status
}

func TestReimportResolvesReopensAndCloses(t *testing.T) {
	orig := juiceShop(t)
	modified := dropEvery(t, orig, 7)
	repOrig, repMod := parse(t, "trivy", orig), parse(t, "trivy", modified)
	kept := map[string]bool{}
	for _, f := range repMod.Findings {
		kept[f.Fingerprint] = true
	}
	var dropped []string
	for _, f := range repOrig.Findings {
		if !kept[f.Fingerprint] {
			dropped = append(dropped, f.Fingerprint)
		}
	}
	sort.Strings(dropped)
	if len(dropped) < 3 {
		t.Fatalf("only %d findings dropped", len(dropped))
	}
	total := uniqueFindings(repOrig)

	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	ctx := context.Background()
	first := importBytes(t, im, orig, app.ImportScanReport{})
	if first.New != total {
		t.Fatalf("first: %+v", first)
	}
	ids := findingIDs(t, store)

	// A person marks one finding that the next report lacks false positive, and one it keeps.
	var fpGone, fpKept string
	fpGone = ids[dropped[0]]
	for fp := range kept {
		fpKept = ids[fp]
		break
	}
	for _, id := range []string{fpGone, fpKept} {
		f, v := loadFinding(t, store, id)
		changes, err := f.MarkFalsePositive("test fixture, not real")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := es.Save(ctx, store, id, events.Exact(v), es.Meta{Actor: "analyst"}, changes); err != nil {
			t.Fatal(err)
		}
	}
	// And accepts the risk of another dropped one.
	raGone := ids[dropped[1]]
	{
		f, v := loadFinding(t, store, raGone)
		changes, err := f.AcceptRisk("ciso", "compensating control", time.Now().Add(24*time.Hour), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := es.Save(ctx, store, raGone, events.Exact(v), es.Meta{Actor: "analyst"}, changes); err != nil {
			t.Fatal(err)
		}
	}
	active := len(dropped) - 2 // the dropped ones that are still open

	s := importBytes(t, im, modified, app.ImportScanReport{})
	if s.Resolved != active || s.New != 0 || s.Reopened != 0 || s.Closed != 0 || s.Unchanged != total-len(dropped) {
		t.Fatalf("modified report: %+v, want resolved=%d unchanged=%d", s, active, total-len(dropped))
	}
	for _, fp := range dropped[2:] {
		if st := statusOf(t, store, ids[fp]); st != vulns.StatusResolved {
			t.Fatalf("dropped finding %s is %s, want resolved", ids[fp], st)
		}
	}
	if st := statusOf(t, store, fpGone); st != vulns.StatusFalsePositive {
		t.Fatalf("false positive not seen became %s", st)
	}
	if st := statusOf(t, store, raGone); st != vulns.StatusRiskAccepted {
		t.Fatalf("risk-accepted not seen became %s", st)
	}
	if st := statusOf(t, store, fpKept); st != vulns.StatusFalsePositive {
		t.Fatalf("false positive seen became %s", st)
	}
	// The resolution says why.
	for _, e := range allEvents(t, store) {
		if e.Type == contracts.TypeFindingResolved {
			var d struct {
				Reason string `json:"reason"`
				ScanID string `json:"scan_id"`
			}
			_ = json.Unmarshal(e.Data, &d)
			if d.Reason != "not seen by scan "+s.ScanID || d.ScanID != s.ScanID {
				t.Fatalf("FindingResolved data %s", e.Data)
			}
		}
	}

	// The original again: the resolved ones come back, the false positive stays.
	s = importBytes(t, im, orig, app.ImportScanReport{})
	if s.Reopened != active || s.Unchanged != total-active || s.New != 0 || s.Resolved != 0 {
		t.Fatalf("original again: %+v, want reopened=%d", s, active)
	}
	for _, fp := range dropped[2:] {
		if st := statusOf(t, store, ids[fp]); st != vulns.StatusReopened {
			t.Fatalf("finding %s is %s, want reopened", ids[fp], st)
		}
	}
	if st := statusOf(t, store, fpGone); st != vulns.StatusFalsePositive {
		t.Fatalf("false positive seen again became %s", st)
	}

	// Modified twice: resolved, then closed (the fix is verified by the later scan).
	s = importBytes(t, im, modified, app.ImportScanReport{})
	if s.Resolved != active {
		t.Fatalf("modified again: %+v", s)
	}
	s = importBytes(t, im, modified, app.ImportScanReport{})
	if s.Closed != active || s.Resolved != 0 || s.Unchanged != total-len(dropped) {
		t.Fatalf("modified a third time: %+v, want closed=%d", s, active)
	}
	for _, fp := range dropped[2:] {
		if st := statusOf(t, store, ids[fp]); st != vulns.StatusClosed {
			t.Fatalf("finding %s is %s, want closed", ids[fp], st)
		}
	}
	// Closed findings stay closed when still not seen, and reopen when seen.
	s = importBytes(t, im, modified, app.ImportScanReport{})
	if s.Closed != 0 || s.Resolved != 0 {
		t.Fatalf("modified a fourth time: %+v", s)
	}
	s = importBytes(t, im, orig, app.ImportScanReport{})
	if s.Reopened != active {
		t.Fatalf("original after closing: %+v", s)
	}

	// A fresh importer rebuilds the same catalogue from the store.
	im2 := newImporter(t, store)
	s = importBytes(t, im2, orig, app.ImportScanReport{})
	if s.New != 0 || s.Unchanged != total || s.Resolved != 0 {
		t.Fatalf("after rebuild: %+v", s)
	}
	if st := im2.FindingStatus(fpGone); st != vulns.StatusFalsePositive {
		t.Fatalf("rebuilt catalogue says %s", st)
	}
}

func TestOtherAssetIsItsOwnScope(t *testing.T) {
	orig := juiceShop(t)
	// The same report for another image (another digest and name): another asset, another scope.
	d := decodeTrivy(t, orig)
	d["ArtifactName"] = "example/other:1.0"
	md := d["Metadata"].(map[string]any)
	md["ImageID"] = "sha256:" + strings.Repeat("ab", 32)
	md["RepoDigests"] = []any{"example/other@sha256:" + strings.Repeat("cd", 32)}
	other := dropEvery(t, d.encode(t), 2) // and half the findings

	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	a := importBytes(t, im, orig, app.ImportScanReport{})
	b := importBytes(t, im, other, app.ImportScanReport{})
	if b.AssetsDiscovered != 1 || b.AssetsMatched != 0 || b.New != uniqueFindings(parse(t, "trivy", other)) || b.Resolved != 0 {
		t.Fatalf("other image: %+v", b)
	}
	a2 := importBytes(t, im, orig, app.ImportScanReport{})
	if a2.Unchanged != a.New || a2.Resolved != 0 || a2.AssetsMatched != 1 {
		t.Fatalf("first image again: %+v", a2)
	}
}

func nmapDoc(hosts ...string) []byte {
	var sb strings.Builder
	sb.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV --script vulners" start="1700000000" version="7.94" xmloutputversion="1.05">
`)
	for _, h := range hosts {
		sb.WriteString(h)
	}
	sb.WriteString(`<runstats><finished time="1700000100"/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>
`)
	return []byte(sb.String())
}

func nmapHost(ip, mac, cve string) string {
	addr := `<address addr="` + ip + `" addrtype="ipv4"/>`
	if mac != "" {
		addr += `<address addr="` + mac + `" addrtype="mac"/>`
	}
	return `<host><status state="up" reason="arp-response"/>` + addr + `
<ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="7.4"/>
<script id="vulners" output="&#xa;  cpe:/a:openbsd:openssh:7.4: &#xa;    	` + cve + `	7.8	https://vulners.com/cve/` + cve + `">
<table key="cpe:/a:openbsd:openssh:7.4">
<table><elem key="id">` + cve + `</elem><elem key="type">cve</elem><elem key="is_exploit">false</elem><elem key="cvss">7.8</elem></table>
</table></script></port></ports></host>
`
}

func TestNmapHostsAreMatchedNotDuplicated(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)

	// Same MAC, new IP: the same host; the IP is recorded on it.
	first := importBytes(t, im, nmapDoc(nmapHost("10.1.0.5", "00:1A:2B:3C:4D:5E", "CVE-2023-38408"), nmapHost("10.1.0.6", "", "CVE-2023-38408")), app.ImportScanReport{})
	if first.AssetsDiscovered != 2 || first.New != 2 {
		t.Fatalf("first: %+v", first)
	}
	second := importBytes(t, im, nmapDoc(nmapHost("10.1.0.99", "00:1a:2b:3c:4d:5e", "CVE-2023-38408")), app.ImportScanReport{})
	if second.AssetsDiscovered != 0 || second.AssetsMatched != 1 {
		t.Fatalf("same MAC: %+v", second)
	}
	// Same IP, no MAC: matched too.
	third := importBytes(t, im, nmapDoc(nmapHost("10.1.0.6", "", "CVE-2023-38408")), app.ImportScanReport{})
	if third.AssetsDiscovered != 0 || third.AssetsMatched != 1 {
		t.Fatalf("same IP: %+v", third)
	}
	n := countTypes(allEvents(t, store))
	if n[contracts.TypeAssetRegistered] != 2 || n[contracts.TypeAssetIdentifiersObserved] != 1 {
		t.Fatalf("asset events %v", n)
	}
	// The nmap fingerprint holds the host's IP, so the first host's finding seen under its new IP
	// is a new finding of the same scope, and the one under the old IP is resolved.
	if second.New != 1 || second.Resolved != 1 {
		t.Fatalf("second: %+v", second)
	}
	// The second host scanned alone does not resolve the first host's finding (another scope).
	if third.Resolved != 0 || third.Unchanged != 1 {
		t.Fatalf("cross-scope resolution: %+v", third)
	}

	// The real files: two imports of a 256-host subnet register each host once.
	dir := testsupport.SharedTestdata(t, "nmap")
	b := readFile(t, filepath.Join(dir, "nmap_A_subnet_256hosts.xml"))
	s1 := importBytes(t, im, b, app.ImportScanReport{})
	s2 := importBytes(t, im, b, app.ImportScanReport{})
	if s1.AssetsDiscovered == 0 || s2.AssetsDiscovered != 0 || s2.AssetsMatched != s1.AssetsDiscovered+s1.AssetsMatched {
		t.Fatalf("subnet twice: %+v then %+v", s1, s2)
	}
}

func TestUnreadableReportAppendsOnlyFailure(t *testing.T) {
	orig := juiceShop(t)
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	ctx := context.Background()

	_, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(orig[:len(orig)/2]), Format: "auto"})
	var pe *importers.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("truncated report: %v, want *importers.ParseError", err)
	}
	evs := allEvents(t, store)
	if len(evs) != 1 || evs[0].Type != contracts.TypeScanImportFailed {
		t.Fatalf("events after a parse error: %v", countTypes(evs))
	}

	_, err = im.Import(ctx, app.ImportScanReport{Report: strings.NewReader("hello, this is no report")})
	var fe *app.FormatError
	if !errors.As(err, &fe) || len(fe.Candidates) != 0 {
		t.Fatalf("garbage: %v", err)
	}
	if n := countTypes(allEvents(t, store)); n[contracts.TypeScanImportFailed] != 2 || len(n) != 1 {
		t.Fatalf("events: %v", n)
	}

	// Request errors append nothing.
	for _, req := range []app.ImportScanReport{{Format: "nope"}, {ScanID: "not-a-uuid"}, {Asset: "assets-asset-x"},
		{Asset: events.NewStreamID("assets", "asset")}} {
		req.Report = bytes.NewReader(orig)
		if _, err := im.Import(ctx, req); err == nil {
			t.Fatalf("%+v accepted", req)
		}
	}
	if n := len(allEvents(t, store)); n != 2 {
		t.Fatalf("request errors appended events: %d", n)
	}

	// A scan id imports once.
	id := "0190f5a8-0000-7000-8000-000000000001"
	importBytes(t, im, orig, app.ImportScanReport{ScanID: id})
	_, err = im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(orig), ScanID: id})
	var ae *app.AlreadyImportedError
	if !errors.As(err, &ae) {
		t.Fatalf("second import of a scan id: %v", err)
	}
}

func TestConcurrentImports(t *testing.T) {
	orig := juiceShop(t)
	ob := sharedReport(t, "grype", "grype_rhel87_image_35matches.json")
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im, err := app.New(store, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := im.Start(ctx); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	sums := make([]app.Summary, 6)
	for i := range sums {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := orig
			if i%2 == 1 {
				b = ob
			}
			s, err := im.Import(ctx, app.ImportScanReport{Report: bytes.NewReader(b)})
			if err != nil {
				t.Error(err)
			}
			sums[i] = s
		}()
	}
	wg.Wait()
	cancel()
	if err := im.Wait(); err != nil {
		t.Fatal(err)
	}
	news := 0
	for _, s := range sums {
		news += s.New
		if s.Resolved != 0 || s.Reopened != 0 {
			t.Errorf("concurrent import resolved or reopened: %+v", s)
		}
	}
	want := uniqueFindings(parse(t, "trivy", orig)) + uniqueFindings(parse(t, "grype", ob))
	n := countTypes(allEvents(t, store))
	if news != want || n[contracts.TypeFindingOpened] != want || n[contracts.TypeAssetRegistered] != 2 {
		t.Fatalf("opened %d (summaries say %d), want %d; events %v", n[contracts.TypeFindingOpened], news, want, n)
	}
}

func TestFindingOpenedData(t *testing.T) {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	im := newImporter(t, store)
	rep := trivytest.Report(3, "example/gen:1", detailedTrivy)
	// An invalid vector is kept with its error; a long description is cut with a marker.
	vs := rep["Results"].([]any)[0].(map[string]any)["Vulnerabilities"].([]any)
	v0 := vs[0].(map[string]any)
	v0["CVSS"] = map[string]any{"nvd": map[string]any{"V3Vector": "CVSS:3.1/AV:X/AC:L", "V3Score": 9.8},
		"ghsa": map[string]any{"V3Vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "V3Score": 9.0}}
	v0["Description"] = strings.Repeat("é", 70000)
	s := importBytes(t, im, trivytest.Encode(t, rep), app.ImportScanReport{})
	if s.New != 3 {
		t.Fatalf("%+v", s)
	}
	n := countTypes(allEvents(t, store))
	if n[contracts.TypeFindingDueDateSet] != 3 {
		t.Fatalf("due dates: %v", n)
	}
	for _, e := range allEvents(t, store) {
		if e.Type != contracts.TypeFindingOpened {
			continue
		}
		var d struct {
			AssetID     string `json:"asset_id"`
			IdentityKey string `json:"identity_key"`
			Description string `json:"description"`
			CVSS        []struct {
				Version, Vector, Source, Severity, Error string
				Score                                    *float64
				ScannerScore                             *float64 `json:"scanner_score"`
			} `json:"cvss"`
		}
		if err := json.Unmarshal(e.Data, &d); err != nil {
			t.Fatal(err)
		}
		if app.FindingStreamID(d.IdentityKey) != e.StreamID || !strings.HasPrefix(d.IdentityKey, d.AssetID+"|trivy|") {
			t.Fatalf("identity %s for %s", d.IdentityKey, e.StreamID)
		}
		if !strings.Contains(string(e.Data), "AV:X") {
			continue
		}
		if !strings.HasSuffix(d.Description, app.TruncationMarker) || len(d.Description) > app.MaxDescription {
			t.Fatalf("description of %d bytes not truncated", len(d.Description))
		}
		var bad, good bool
		for _, c := range d.CVSS {
			switch c.Source {
			case "nvd":
				bad = c.Error != "" && c.Score == nil && c.ScannerScore != nil && *c.ScannerScore == 9.8
			case "ghsa":
				good = c.Error == "" && c.Score != nil && *c.Score == 9.8 && *c.ScannerScore == 9.0 && c.Severity == "Critical"
			}
		}
		if !bad || !good {
			t.Fatalf("cvss %+v", d.CVSS)
		}
		return
	}
	t.Fatal("finding with the invalid vector not found")
}

// Dropping findings from a report of each dependency format resolves exactly those on reimport:
// the fingerprints of the others do not depend on what else the report holds.
func TestDependencyFormatsReimportResolvesRemoved(t *testing.T) {
	for _, c := range []struct {
		format, file string
		drop         func(t *testing.T, b []byte) []byte // the report less one open finding
	}{
		{"npm-audit", "npm_audit_v2_cvss_cwe_scoped.json", func(t *testing.T, b []byte) []byte {
			var doc struct {
				Version         int                        `json:"auditReportVersion"`
				Vulnerabilities map[string]json.RawMessage `json:"vulnerabilities"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			delete(doc.Vulnerabilities, "semver") // one advisory
			return mustJSON(t, doc)
		}},
		{"github", "github_api_code_scanning_alerts.json", func(t *testing.T, b []byte) []byte {
			var alerts []json.RawMessage
			if err := json.Unmarshal(b, &alerts); err != nil {
				t.Fatal(err)
			}
			return mustJSON(t, alerts[1:]) // alert 4, open
		}},
		{"govulncheck", "govulncheck_source_symbol_scan.json", func(t *testing.T, b []byte) []byte {
			var kept [][]byte
			dec := json.NewDecoder(bytes.NewReader(b))
			for dec.More() {
				var m map[string]json.RawMessage
				if err := dec.Decode(&m); err != nil {
					t.Fatal(err)
				}
				if f, ok := m["finding"]; ok && bytes.Contains(f, []byte(`"GO-2021-0054"`)) {
					continue // every finding object of one (osv, module, version)
				}
				kept = append(kept, mustJSON(t, m))
			}
			return bytes.Join(kept, []byte("\n"))
		}},
	} {
		t.Run(c.format, func(t *testing.T) {
			b := readFile(t, importertest.File(t, c.format, c.file))
			store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
			fallback := registerAsset(t, store, "fallback")
			im := newImporter(t, store)
			first := importBytes(t, im, b, app.ImportScanReport{Asset: fallback})
			second := importBytes(t, im, c.drop(t, b), app.ImportScanReport{Asset: fallback, CloseMissing: true})
			if second.Resolved != 1 || second.New != 0 || second.Reopened != 0 || second.FindingsTotal != first.FindingsTotal-1 {
				t.Errorf("second import %+v after %+v: want the one finding removed resolved, nothing new", second, first)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
