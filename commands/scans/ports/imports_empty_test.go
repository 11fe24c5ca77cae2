package ports

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// An empty upload with a format whose scanner writes an empty report for "nothing found" is
// accepted and imported by the real importer as a completed scan with no findings; an empty
// upload without a format, or of a format that never writes one, is refused before it is queued.
func TestEmptyUpload(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, nil)
	code, body := post(t, f.srv, "?format=nuclei", "application/x-ndjson", strings.NewReader(""))
	if code != http.StatusAccepted {
		t.Fatalf("POST ?format=nuclei with an empty body: %d %v", code, body)
	}
	if body["bytes"] != float64(1) {
		t.Errorf("an empty report is spooled as one line end (ScanImportRequested records at least a byte): %v", body)
	}
	j := waitJob(t, f.srv, body["scan_id"].(string))
	if j.State != "completed" || j.Summary == nil || j.Summary.FindingsTotal != 0 || j.Summary.Resolved != 0 ||
		!slices.Contains(j.Summary.Warnings, "nuclei report: "+importers.EmptyWarning) {
		t.Fatalf("empty nuclei report: %+v (summary %+v)", j, j.Summary)
	}
	for query, says := range map[string]string{"": "name the format", "?format=auto": "name the format", "?format=trivy": "an empty trivy report is no report"} {
		code, body := post(t, f.srv, query, "application/json", strings.NewReader(""))
		if detail, _ := body["detail"].(string); code != http.StatusBadRequest || body["field"] != "body" || !strings.Contains(detail, says) {
			t.Errorf("POST %q with an empty body: %d %v, want a 400 on body saying %q", query, code, body, says)
		}
	}
	if left := spoolFiles(t, f.spool); len(left) != 0 {
		t.Errorf("spool files left: %v", left)
	}
}
