package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/mapped"
)

// sampleMappings are the mapping files of the mapped format's samples.
var sampleMappings = map[string]string{
	"acme-findings.csv":    "acme-csv.mapping.json",
	"webscan-results.json": "webscan-json.mapping.json",
}

// importFact is one row of testdata/import_facts.json: what import_facts.sh computed from one
// report file with jq and xmllint, never with the project's parsers.
type importFact struct {
	Format     string         `json:"format"`
	File       string         `json:"file"`
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"by_severity"` // nil: the format's mapping is not a plain rename
	Assets     *int           `json:"assets"`      // nil: not counted independently
	Cut        string         `json:"cut"`         // "lines", "json:<dot path>" or "xml:<element>"
	K          int            `json:"k"`           // entries cut; 0: no import with findings removed
	Rest       int            `json:"rest"`        // distinct findings once the first K entries are cut
	Resolved   int            `json:"resolved"`    // of the others, those on an asset the cut report still names
}

// namesNoAsset are the formats whose reports do not name what was scanned (a weak identity
// after the tool at most): each file gets an asset of its own.
// OSV-Scanner's asset is named after the directory its sources share, which a cut changes.
var namesNoAsset = map[string]bool{"semgrep": true, "bandit": true, "gitleaks": true, "npm-audit": true, "pip-audit": true, "govulncheck": true, "osv-scanner": true}

// sharesAssets are the files that name assets (with findings of the same fingerprint) that an
// earlier file of their format names too: they get a node of their own.
var sharesAssets = map[string]bool{
	"qualys_vm_scan_two_hosts_common_issue.xml": true,
	"burp_dradis_issues.xml":                    true, // burp_dradis_issue_severity.xml's host and issues
	"code_scanning_alert_webhook_created.json":  true, // the alert closed_by_user closes
	"acunetix360_own_scan.json":                 true, // acunetix360_own_empty.json's target
	"qualys_vm_scan_practices_cvss3.xml":        true, // a host and QID of qualys_host_detection_own.xml
	"nuclei_v2_legacy_names.jsonl":              true, // the ip of nuclei_json_export_array.json's host
}

func readImportFacts(t *testing.T) []importFact {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "import_facts.json"))
	if err != nil {
		t.Fatal(err)
	}
	var facts []importFact
	if err := json.Unmarshal(b, &facts); err != nil {
		t.Fatal(err)
	}
	return facts
}

// newFormats are the formats issue 15 added: every format importertest lists after cyclonedx,
// and the custom mapping (never detected: its samples are imported with --mapping).
func newFormats(t *testing.T) []string {
	t.Helper()
	for i, f := range importertest.Formats {
		if f == "cyclonedx" {
			return append(slices.Clone(importertest.Formats[i+1:]), mapped.Format)
		}
	}
	t.Fatal("importertest.Formats has no cyclonedx")
	return nil
}

// TestImportFacts: the committed facts cover every report file of every new format, and, when
// jq and xmllint are installed (CI has both), import_facts.sh recomputes exactly them.
func TestImportFacts(t *testing.T) {
	facts := readImportFacts(t)
	have := map[string]bool{}
	for _, f := range facts {
		have[f.Format+"/"+f.File] = true
	}
	for _, format := range newFormats(t) {
		for _, path := range importertest.Reports(t, format) {
			if !have[format+"/"+filepath.Base(path)] {
				t.Errorf("no facts for %s %s: rerun cmd/soc/testdata/import_facts.sh", format, filepath.Base(path))
			}
		}
	}
	for _, tool := range []string{"jq", "xmllint"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH: the committed facts are not recomputed", tool)
		}
	}
	out := filepath.Join(t.TempDir(), "facts.json")
	cmd := exec.Command("sh", filepath.Join("testdata", "import_facts.sh"), importertest.Testdata(t), out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import_facts.sh: %v\n%s", err, b)
	}
	want, _ := os.ReadFile(filepath.Join("testdata", "import_facts.json"))
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("import_facts.sh computes other facts than testdata/import_facts.json holds: rerun it and review the diff\n%s", got)
	}
}

// TestEveryNewFormatImportsThroughServe imports every report file of every new format through
// `soc import` into a running `soc serve` (auto-detection), and checks the summary against the
// facts import_facts.sh computed with jq/xmllint; a second import changes nothing; an import of
// the report with its first K findings entries cut resolves exactly the findings only those held.
func TestEveryNewFormatImportsThroughServe(t *testing.T) {
	byFormat := map[string][]importFact{}
	for _, f := range readImportFacts(t) {
		byFormat[f.Format] = append(byFormat[f.Format], f)
	}
	bin := plainSocBin(t)
	for _, format := range newFormats(t) {
		t.Run(format, func(t *testing.T) {
			// Two formats at a time (-parallel defaults to GOMAXPROCS), each on its node: scopes
			// are asset × format, but assets are not (two formats' reports naming one web
			// application would find it already known). A file naming the assets of another file
			// of its format gets a node of its own, and a report that names no asset of its own
			// an asset of its own (--asset), so that no file's import resolves another's findings.
			t.Parallel()
			facts := byFormat[format]
			if len(facts) == 0 {
				t.Fatalf("no facts for %s", format)
			}
			shared := startNodeOf(t, bin, nil)
			for _, fact := range facts {
				path := importertest.File(t, format, fact.File)
				t.Run(fact.File, func(t *testing.T) {
					n := shared
					if sharesAssets[fact.File] {
						n = startNodeOf(t, bin, nil)
					}
					server := "http://" + n.addr
					var flags []string
					var mapping []byte
					if format == mapped.Format {
						m := filepath.Join(importertest.Samples(format), "..", "..", "mapped", "testdata", sampleMappings[fact.File])
						flags = []string{"--mapping", m}
						var err error
						if mapping, err = os.ReadFile(m); err != nil {
							t.Fatal(err)
						}
					}
					query := url.Values{"format": {"auto"}}
					if mapping != nil {
						query.Set("format", mapped.Format)
					}
					if namesNoAsset[format] {
						asset := strings.TrimSuffix(fact.File, filepath.Ext(fact.File))
						r := call(t, http.MethodPost, server+"/v1/assets", bearerFor(n.addr, false), `{"kind":"repository","name":"`+asset+`","identifiers":{"repo_url":"https://git.example.test/`+asset+`"}}`)
						if r.status != http.StatusCreated && r.status != http.StatusOK {
							t.Fatalf("creating asset %s: %d %s", asset, r.status, r.body)
						}
						flags = append(flags, "--asset", asset)
						query.Set("asset", asset)
					}
					// The first import goes through `soc import`; the others through the API.
					first := importFile(t, bin, n, path, server, flags...)
					if first.Format != format {
						t.Fatalf("detected as %q, want %s", first.Format, format)
					}
					if first.FindingsTotal != fact.Total || first.New != fact.Total {
						t.Errorf("first import: total %d new %d, jq/xmllint count %d distinct findings", first.FindingsTotal, first.New, fact.Total)
					}
					if fact.BySeverity != nil && !sameCounts(first.BySeverity, fact.BySeverity) {
						t.Errorf("first import by severity %v, jq/xmllint %v", first.BySeverity, fact.BySeverity)
					}
					if fact.Assets != nil && first.Assets != *fact.Assets {
						t.Errorf("first import discovered %d assets, jq/xmllint count %d", first.Assets, *fact.Assets)
					}
					again := importOver(t, n, path, mapping, query)
					if again.New != 0 || again.Unchanged != fact.Total || again.Resolved != 0 || again.Reopened != 0 || again.HeldBack != 0 {
						t.Errorf("second import of the same file: %+v, want all %d unchanged", again, fact.Total)
					}
					if fact.K == 0 {
						return
					}
					cut := filepath.Join(t.TempDir(), fact.File)
					if err := os.WriteFile(cut, cutEntries(t, path, fact.Cut, fact.K), 0o600); err != nil {
						t.Fatal(err)
					}
					// --close-missing: cutting one entry of a small report removes more than the
					// server's --reimport-max-close-share of its scope, which would hold it back.
					query.Set("close_missing", "true")
					// The format named: the first import checked detection, and a cut report is no
					// longer as the scanner wrote it (encoding/json sorts an object's keys, which moves
					// Trivy Operator's kind after items; a cut that leaves no findings may no longer
					// show which format it is: Semgrep's {"errors": [], "results": []}).
					if mapping == nil {
						query.Set("format", format)
					}
					less := importOver(t, n, cut, mapping, query)
					if less.FindingsTotal != fact.Rest || less.New != 0 || less.Unchanged != fact.Rest || less.Resolved != fact.Resolved || less.HeldBack != 0 {
						t.Errorf("import without the first %d entries of %s: %+v, want %d unchanged and %d resolved", fact.K, fact.Cut, less, fact.Rest, fact.Resolved)
					}
				})
			}
		})
	}
}

// plainSocBin builds soc without -race, once, beside the race-built socBin (TestMain removes
// both). The import path's races are covered by the race-built end-to-end tests (importcmd,
// the scans e2e); this test is about counts, over ~90 files, and under the race detector it
// took minutes of cmd/soc's package timeout on two cores.
func plainSocBin(t *testing.T) string {
	t.Helper()
	plainSocOnce.Do(func() {
		bin := filepath.Join(filepath.Dir(socBin), "soc-norace")
		build := exec.Command("go", "build", "-o", bin, ".")
		if out, err := build.CombinedOutput(); err != nil {
			plainSocErr = fmt.Errorf("building soc without -race: %v\n%s", err, out)
			return
		}
		plainSoc = bin
	})
	if plainSocErr != nil {
		t.Fatal(plainSocErr)
	}
	return plainSoc
}

var (
	plainSocOnce sync.Once
	plainSoc     string
	plainSocErr  error
)

type importResult struct {
	importSummary
	HeldBack       int    `json:"held_back"`
	HeldBackReason string `json:"held_back_reason"`
}

func importFile(t *testing.T, bin string, n *node, path, server string, flags ...string) importResult {
	t.Helper()
	out, errOut, code := socCmdOf(t, bin, nil, append([]string{"import", path, "--server", server}, flags...)...)
	if code != 0 {
		t.Fatalf("soc import %s exited %d: %s\n%s", filepath.Base(path), code, errOut, n.stderr)
	}
	var s importResult
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("soc import printed %q: %v", out, err)
	}
	return s
}

// sameCounts compares counts by severity; a severity counted 0 is the same as one not listed.
func sameCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

// importOver uploads the file at path (after mapping, when given) through POST
// /v1/scans/imports?query and waits for the import: faster than another `soc import` process.
func importOver(t *testing.T, n *node, path string, mapping []byte, query url.Values) importResult {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var body io.Reader = f
	if mapping != nil {
		body = mapped.UploadBody(mapping, f)
	}
	base := "http://" + n.addr
	resp, err := testClient.Post(base+"/v1/scans/imports?"+query.Encode(), "application/octet-stream", body)
	if err != nil {
		t.Fatal(err)
	}
	var accepted struct {
		ScanID string `json:"scan_id"`
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &accepted) != nil {
		t.Fatalf("POST /v1/scans/imports?%s: %d %s", query.Encode(), resp.StatusCode, b)
	}
	for {
		var job struct {
			State   string       `json:"state"`
			Error   string       `json:"error"`
			Summary importResult `json:"summary"`
		}
		code, b := get(t, base+"/v1/scans/"+accepted.ScanID+"/import")
		if code != http.StatusOK || json.Unmarshal([]byte(b), &job) != nil {
			t.Fatalf("import status: %d %s", code, b)
		}
		switch job.State {
		case "completed":
			return job.Summary
		case "failed":
			t.Fatalf("the import of %s failed: %s\n%s", filepath.Base(path), job.Error, n.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cutEntries returns the report at path without the first k entries of its findings
// container, as spec (the facts' cut) names it: "lines" (JSON Lines), "json:<dot path>" (an
// array, or an object's members by sorted key; an empty path is the document itself) or "xml:<element>" (the first k elements of that
// local name, wherever they are, cut out byte for byte so the rest stays as the scanner wrote it).
func cutEntries(t *testing.T, path, spec string, k int) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch kind, arg, _ := strings.Cut(spec, ":"); kind {
	case "lines":
		var out bytes.Buffer
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			if k > 0 && len(bytes.TrimSpace(sc.Bytes())) > 0 {
				k--
				continue
			}
			out.Write(sc.Bytes())
			out.WriteByte('\n')
		}
		return out.Bytes()
	case "csv":
		r := csv.NewReader(bytes.NewReader(b))
		r.FieldsPerRecord = -1
		if _, err := r.Read(); err != nil { // the header
			t.Fatal(err)
		}
		start := r.InputOffset()
		for ; k > 0; k-- {
			if _, err := r.Read(); err != nil {
				t.Fatal(err)
			}
		}
		return append(b[:start:start], b[r.InputOffset():]...)
	case "yaml":
		for ; k > 0; k-- {
			b = cutYAMLItem(t, b)
		}
		return b
	case "json":
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var doc any
		if err := d.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		doc = cutJSON(t, doc, strings.FieldsFunc(arg, func(r rune) bool { return r == '.' }), k)
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return out
	case "xml":
		for ; k > 0; k-- {
			start, end := xmlElement(t, b, arg)
			b = append(b[:start:start], b[end:]...)
		}
		return b
	}
	t.Fatalf("unknown cut %q", spec)
	return nil
}

func cutJSON(t *testing.T, v any, path []string, k int) any {
	t.Helper()
	if len(path) > 0 {
		if i, err := strconv.Atoi(path[0]); err == nil {
			a, ok := v.([]any)
			if !ok || i >= len(a) {
				t.Fatalf("no array entry %d", i)
			}
			a[i] = cutJSON(t, a[i], path[1:], k)
			return a
		}
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("no object to take %s from", path[0])
		}
		m[path[0]] = cutJSON(t, m[path[0]], path[1:], k)
		return m
	}
	if m, ok := v.(map[string]any); ok && len(m) >= k {
		// an object's first k members in sorted order (jq's keys; encoding/json writes the rest
		// sorted too)
		keys := slices.Sorted(maps.Keys(m))
		for _, key := range keys[:k] {
			delete(m, key)
		}
		return m
	}
	a, ok := v.([]any)
	if !ok || len(a) < k {
		t.Fatalf("no array or object of %d entries to cut", k)
	}
	return a[k:]
}

// xmlElement returns the byte range of the first element named local in doc.
func xmlElement(t *testing.T, doc []byte, local string) (int, int) {
	t.Helper()
	// encoding/xml reads only XML 1.0: a 1.1 declaration (Burp's) is read as 1.0, the same
	// length, so that the offsets still point into doc.
	d := xml.NewDecoder(bytes.NewReader(bytes.Replace(doc, []byte(`<?xml version="1.1"`), []byte(`<?xml version="1.0"`), 1)))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		off := d.InputOffset()
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			t.Fatalf("no <%s> left to cut", local)
		}
		if err != nil {
			t.Fatal(err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == local {
			depth := 1
			for depth > 0 {
				tok, err := d.RawToken()
				if err != nil {
					t.Fatal(err)
				}
				switch tok.(type) {
				case xml.StartElement:
					depth++
				case xml.EndElement:
					depth--
				}
			}
			return int(off), int(d.InputOffset())
		}
	}
}

// cutYAMLItem cuts the first item of the first checks: or vulnerabilities: list of a Trivy
// Operator YAML document: from its "- " line to the next line indented no deeper.
func cutYAMLItem(t *testing.T, doc []byte) []byte {
	t.Helper()
	lines := bytes.SplitAfter(doc, []byte("\n"))
	indent := func(l []byte) int { return len(l) - len(bytes.TrimLeft(l, " ")) }
	for i, l := range lines {
		key := strings.TrimSpace(string(l))
		if (key != "checks:" && key != "vulnerabilities:") || i+1 >= len(lines) || !bytes.HasPrefix(bytes.TrimLeft(lines[i+1], " "), []byte("- ")) {
			continue
		}
		d, end := indent(lines[i+1]), i+2
		for end < len(lines) && (len(bytes.TrimSpace(lines[end])) == 0 || indent(lines[end]) > d) {
			end++
		}
		return slices.Concat(slices.Concat(lines[:i+1]...), slices.Concat(lines[end:]...))
	}
	t.Fatal("no checks: or vulnerabilities: item to cut")
	return nil
}
