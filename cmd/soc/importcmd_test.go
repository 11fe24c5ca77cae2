package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
)

// fakeImportServer accepts one upload, records its query, and answers GET with a completed job
// carrying summary.
func fakeImportServer(t *testing.T, summary string) (*httptest.Server, *string) {
	t.Helper()
	var query string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/scans/imports", func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"scan_id":"0190f5a8-0000-7000-8000-000000000001"}`))
	})
	mux.HandleFunc("GET /v1/scans/{id}/import", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"state":"completed","findings_done":3,"findings_total":3,"summary":` + summary + `}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &query
}

// TestImportExitsNonZeroWhenTheCountsDoNotAddUp: a completed import whose summary loses a finding
// (parsed 3, stored 1 + 1 duplicate) is no success for a script; one that accounts for every
// finding is. --asset and --close-missing reach the request.
func TestImportExitsNonZeroWhenTheCountsDoNotAddUp(t *testing.T) {
	report := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(report, []byte(`{}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, summary string
		want          int
		stderr        string
	}{
		{"lost", `{"parsed":3,"stored":1,"duplicate_count":1,"ignored":0}`, 1, "3 findings parsed, but 1 stored + 1 duplicates + 0 ignored: 1 lost"},
		{"no counts", `{"new":3}`, 1, "does not say how many findings were parsed"},
		{"adds up", `{"parsed":3,"stored":1,"duplicate_count":1,"ignored":1}`, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, query := fakeImportServer(t, c.summary)
			var out, errOut bytes.Buffer
			opts := importOptions{format: "auto", asset: "web 01", closeMissing: true}
			code := runImport(context.Background(), report, opts, srv.URL, time.Minute, &out, &errOut)
			if code != c.want || !strings.Contains(errOut.String(), c.stderr) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)", code, c.want, errOut.String(), c.stderr)
			}
			if *query != "asset=web+01&close_missing=true&format=auto" {
				t.Errorf("query %q", *query)
			}
			if !strings.Contains(out.String(), `"parsed"`) && c.want == 0 {
				t.Errorf("summary not printed: %q", out.String())
			}
		})
	}
}

// TestImportListFormats: --list-formats works offline, one table row per compiled-in format;
// --json is what GET /v1/scans/formats answers. A file beside it is refused.
func TestImportListFormats(t *testing.T) {
	run := func(args ...string) (string, string, error) {
		cmd := importCmd()
		var out, errOut bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(args)
		err := cmd.ExecuteContext(context.Background())
		return out.String(), errOut.String(), err
	}
	out, _, err := run("--list-formats")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range scanapp.Formats() {
		if !strings.Contains(out, "\n"+f.Name+" ") {
			t.Errorf("no row for %s:\n%s", f.Name, out)
		}
	}
	out, _, err = run("--list-formats", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Formats []importers.FormatInfo `json:"formats"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || !reflect.DeepEqual(got.Formats, scanapp.Formats()) {
		t.Errorf("--json: %v\n%s", err, out)
	}
	if _, stderr, err := run("--list-formats", "r.json"); !errors.Is(err, exitCode(2)) || !strings.Contains(stderr, "takes no file") {
		t.Errorf("with a file: %v %q", err, stderr)
	}
}

// TestImportMapping: --mapping checks the mapping before anything is sent (exit 2 naming the bad
// key), then uploads the mapping and a line break before the report, as format mapped.
func TestImportMapping(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "r.csv")
	good := filepath.Join(dir, "good.json")
	bad := filepath.Join(dir, "bad.json")
	for path, content := range map[string]string{
		report: "t,s\na,high\n",
		good:   `{"input": "csv", "fields": {"title": "t", "severity": "s"}, "fingerprint": ["title"]}`,
		bad:    `{"input": "csv", "fields": {"title": "t", "severity": "s"}, "severity_map": {"S1": "urgent"}, "fingerprint": ["title"]}`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var query, body string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/scans/imports", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		query, body = r.URL.RawQuery, string(b)
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"scan_id":"0190f5a8-0000-7000-8000-000000000001"}`))
	})
	mux.HandleFunc("GET /v1/scans/{id}/import", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"state":"completed","summary":{"parsed":1,"stored":1,"duplicate_count":0,"ignored":0}}`))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	run := func(args ...string) (string, error) {
		cmd := importCmd()
		var out, errOut bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&errOut)
		cmd.SetArgs(append([]string{"--server", srv.URL}, args...))
		err := cmd.ExecuteContext(context.Background())
		return errOut.String(), err
	}
	if stderr, err := run("--mapping", bad, report); !errors.Is(err, exitCode(2)) || !strings.Contains(stderr, `severity_map.S1: "urgent" is not a severity`) || body != "" {
		t.Errorf("bad mapping: %v %q, sent %q", err, stderr, body)
	}
	if stderr, err := run("--mapping", good, "--format", "nessus", report); !errors.Is(err, exitCode(2)) || !strings.Contains(stderr, "not nessus") {
		t.Errorf("--format nessus: %v %q", err, stderr)
	}
	if stderr, err := run("--mapping", good, report); err != nil {
		t.Fatalf("%v %q", err, stderr)
	}
	if query != "format=mapped" || body != `{"input": "csv", "fields": {"title": "t", "severity": "s"}, "fingerprint": ["title"]}`+"\nt,s\na,high\n" {
		t.Errorf("query %q, body %q", query, body)
	}
}
