package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/vulns"
	"github.com/socplatform/soc/query-api/reporting"
	"github.com/socplatform/soc/query-api/reporting/render"
)

// oneFinding is a findings read model of one open finding.
type oneFinding struct{}

func (oneFinding) Findings(context.Context, vulns.FindingQuery) (readkit.Page[vulns.Finding], error) {
	return readkit.Page[vulns.Finding]{Items: []vulns.Finding{{ID: "vulns-finding-0190f5a8-0000-7000-8000-000000000001", Title: "openssl", Severity: "high", Status: "open"}}}, nil
}

// titleRenderer writes a document's title and its tables' rows: what the CLI test reads back.
type titleRenderer struct{}

func (titleRenderer) Format() render.Format { return render.CSV }

func (titleRenderer) Render(w io.Writer, d *render.Document) error {
	fmt.Fprintln(w, d.Title)
	for _, s := range d.Sections {
		if s.Table != nil {
			for _, r := range s.Table.Rows {
				fmt.Fprintln(w, r...)
			}
		}
	}
	return nil
}

// reportsServer serves the reporting routes over a real SQLite store, without analytics (the
// executive report fails) and with a CSV renderer.
func reportsServer(t *testing.T) string {
	t.Helper()
	store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
	svc, err := reporting.NewService(reporting.Config{Store: store, Findings: oneFinding{}, Dir: t.TempDir(),
		Renderers: []render.Renderer{titleRenderer{}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := reporting.Register(mux, svc, nil); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); cancel(); svc.Wait() })
	t.Setenv("SOC_TOKEN", "test") // never the caller's stored session
	return srv.URL
}

func runCLI(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestReportsCLI: generate waits for the job and saves the document it checked against its
// sha256; list, download, templates list/show/copy; a failed report exits 1 with its reason,
// a refused request 2.
func TestReportsCLI(t *testing.T) {
	server := reportsServer(t)
	file := filepath.Join(t.TempDir(), "findings.csv")
	code, out, stderr := runCLI("reports", "generate", "--server", server, "--template", "findings", "--format", "csv",
		"--filter", "severity=high,critical", "--filter", "team=red", "-o", file)
	if code != 0 {
		t.Fatalf("generate: exit %d, %s", code, stderr)
	}
	var rep struct {
		reporting.Report
		File string `json:"file"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if rep.File != file || rep.Status != reporting.StatusGenerated || hex.EncodeToString(sum[:]) != rep.SHA256 ||
		!strings.Contains(string(body), "openssl") || strings.Join(rep.Filters.Severities, ",") != "high,critical" || rep.Filters.Teams[0] != "red" {
		t.Fatalf("generated %+v, file %q", rep, body)
	}

	code, out, stderr = runCLI("reports", "list", "--server", server)
	if code != 0 || !strings.Contains(out, rep.ID) || !strings.Contains(out, "generated") {
		t.Fatalf("list: exit %d %s %s", code, out, stderr)
	}
	again := filepath.Join(t.TempDir(), "again.csv")
	if code, _, stderr := runCLI("reports", "download", rep.ID, "--server", server, "-o", again); code != 0 {
		t.Fatalf("download: exit %d %s", code, stderr)
	}
	if b, _ := os.ReadFile(again); !bytes.Equal(b, body) {
		t.Fatalf("downloaded %q, generated %q", b, body)
	}

	code, _, stderr = runCLI("reports", "generate", "--server", server, "--template", "executive", "--format", "csv", "-o", filepath.Join(t.TempDir(), "x.csv"))
	if code != 1 || !strings.Contains(stderr, "failed: building the document: section summary") || !strings.Contains(stderr, "no analytics read model") {
		t.Fatalf("failed report: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCLI("reports", "generate", "--server", server, "--format", "docx"); code != 2 || !strings.Contains(stderr, "/format") {
		t.Fatalf("refused format: exit %d %s", code, stderr)
	}
	if code, _, stderr := runCLI("reports", "generate", "--server", server, "--filter", "colour=red"); code != 2 || !strings.Contains(stderr, "colour") {
		t.Fatalf("bad filter: exit %d %s", code, stderr)
	}

	code, out, stderr = runCLI("reports", "templates", "list", "--server", server)
	if code != 0 || !strings.Contains(out, "executive") || !strings.Contains(out, "findings") {
		t.Fatalf("templates list: exit %d %s %s", code, out, stderr)
	}
	code, out, stderr = runCLI("reports", "templates", "copy", "executive", "--name", "Board", "--section", "summary,kev", "--server", server, "-o", "json")
	var cp reporting.Template
	if code != 0 || json.Unmarshal([]byte(out), &cp) != nil || cp.BasedOn != "executive" || strings.Join(cp.Sections, ",") != "summary,kev" {
		t.Fatalf("copy: exit %d %s %s", code, out, stderr)
	}
	code, out, _ = runCLI("reports", "templates", "show", cp.ID, "--server", server)
	if code != 0 || !strings.Contains(out, `"name": "Board"`) {
		t.Fatalf("show: exit %d %s", code, out)
	}
	if code, _, stderr := runCLI("reports", "templates", "show", "nope", "--server", server); code == 0 || !strings.Contains(stderr, "nope") {
		t.Fatalf("show of nothing: exit %d %s", code, stderr)
	}
}

// TestReportSchedulesCLI: create (a bad cron exits 2 naming /cron), list with the next run,
// delete.
func TestReportSchedulesCLI(t *testing.T) {
	server := reportsServer(t)
	code, _, stderr := runCLI("reports", "schedules", "create", "--server", server, "--name", "Weekly", "--cron", "0 7 * *",
		"--template", "findings", "--format", "csv", "--email", "ciso@example.org")
	if code != 2 || !strings.Contains(stderr, "/cron") {
		t.Fatalf("bad cron: exit %d %s", code, stderr)
	}
	code, out, stderr := runCLI("reports", "schedules", "create", "--server", server, "--name", "Weekly", "--cron", "0 7 * * 1",
		"--time-zone", "Europe/Paris", "--template", "findings", "--format", "csv", "--email", "ciso@example.org",
		"--team", "red", "--channel", "slack", "--delivery", "link", "--filter", "severity=critical", "-o", "json")
	var sc reporting.Schedule
	if code != 0 || json.Unmarshal([]byte(out), &sc) != nil || sc.TimeZone != "Europe/Paris" || sc.Delivery != "link" ||
		sc.Recipients.Emails[0] != "ciso@example.org" || sc.Recipients.Teams[0] != "red" || sc.Recipients.Channels[0] != "slack" ||
		sc.Filters.Severities[0] != "critical" || !sc.Enabled || sc.NextRun.IsZero() {
		t.Fatalf("create: exit %d %s %s", code, out, stderr)
	}
	code, out, stderr = runCLI("reports", "schedules", "list", "--server", server)
	if code != 0 || !strings.Contains(out, sc.ID) || !strings.Contains(out, "0 7 * * 1") {
		t.Fatalf("list: exit %d %s %s", code, out, stderr)
	}
	if code, _, stderr := runCLI("reports", "schedules", "delete", sc.ID, "--server", server); code != 0 {
		t.Fatalf("delete: exit %d %s", code, stderr)
	}
	if code, _, _ := runCLI("reports", "schedules", "delete", sc.ID, "--server", server); code == 0 {
		t.Fatal("deleted twice")
	}
}
