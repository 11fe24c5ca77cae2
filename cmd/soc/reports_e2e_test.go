package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/trivy/trivytest"
)

// TestReportsOnTheNode: on a node serving every target, a findings report lists the findings
// the findings read model holds (the real reader, its sort and pages), as CSV; the executive
// report, from the node's analytics model, is a PDF.
func TestReportsOnTheNode(t *testing.T) {
	base, admin, _ := signedInNode(t, allTargetsConfig(t))
	report, err := os.ReadFile(trivytest.WriteFile(t, 7, "registry.example/reports:1", trivytest.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if r := call(t, http.MethodPost, base+"/v1/scans/imports?format=trivy", admin, string(report)); r.status != http.StatusAccepted {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	eventually(t, "the findings projected", func() bool {
		var page struct{ Items []json.RawMessage }
		r := call(t, http.MethodGet, base+"/v1/findings?limit=100", admin, "")
		return r.status == http.StatusOK && json.Unmarshal([]byte(r.body), &page) == nil && len(page.Items) == 7
	})
	request := func(template, format string) map[string]any {
		r := call(t, http.MethodPost, base+"/v1/reports", admin, `{"template":"`+template+`","format":"`+format+`"}`)
		var acc struct{ ID string }
		if r.status != http.StatusAccepted || json.Unmarshal([]byte(r.body), &acc) != nil {
			t.Fatalf("POST /v1/reports: %d %s", r.status, r.body)
		}
		var rep map[string]any
		eventually(t, "report "+acc.ID, func() bool {
			r := call(t, http.MethodGet, base+"/v1/reports/"+acc.ID, admin, "")
			rep = nil
			_ = json.Unmarshal([]byte(r.body), &rep)
			return rep["status"] == "generated" || rep["status"] == "failed"
		})
		return rep
	}
	rep := request("findings", "csv")
	if rep["status"] != "generated" {
		t.Fatalf("findings report %v", rep)
	}
	r := call(t, http.MethodGet, base+"/v1/reports/"+rep["id"].(string)+"/file", admin, "")
	if r.status != http.StatusOK || r.header.Get("ETag") != `"`+rep["sha256"].(string)+`"` {
		t.Fatalf("file: %d %v", r.status, r.header)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix([]byte(r.body), []byte("\uFEFF")))).ReadAll()
	if err != nil || len(recs) != 1+7 || recs[1][0] != "critical" {
		t.Fatalf("findings CSV (%v): %v", err, recs)
	}
	// The executive report reads the node's analytics model (the embedded default here).
	rep = request("executive", "pdf")
	if rep["status"] != "generated" {
		t.Fatalf("executive report %v", rep)
	}
	r = call(t, http.MethodGet, base+"/v1/reports/"+rep["id"].(string)+"/file", admin, "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.body, "%PDF-") || r.header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("executive PDF: %d %v %.20q", r.status, r.header, r.body)
	}
}
