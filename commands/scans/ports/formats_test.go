package ports

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers"
)

// TestFormatsEndpoint: GET /v1/scans/formats answers app.Formats() as {"formats": […]}, in its
// order, the route beside the import routes.
func TestFormatsEndpoint(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, nil)
	resp, err := http.Get(f.srv.URL + "/v1/scans/formats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got struct {
		Formats []importers.FormatInfo `json:"formats"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if want := app.Formats(); !reflect.DeepEqual(got.Formats, want) {
		t.Errorf("got %+v\nwant %+v", got.Formats, want)
	}
}

// TestImportMappedUpload: an upload of format mapped (the mapping, a line break, the CSV) is
// spooled and imported like any other: its findings are stored; one whose mapping is invalid
// fails at the parse stage with the mapping's error naming the key.
func TestImportMappedUpload(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, nil)
	const mapping = `{"scanner": "acme", "input": "csv", "fields": {"title": "Name", "severity": "Risk", "host": "IP"}, "fingerprint": ["title", "host"]}`
	status, body := post(t, f.srv, "?format=mapped", "application/octet-stream",
		strings.NewReader(mapping+"\nName,Risk,IP\nTelnet enabled,high,10.0.0.9\nOld TLS,low,10.0.0.9\n"))
	if status != http.StatusAccepted {
		t.Fatalf("status %d: %v", status, body)
	}
	j := waitJob(t, f.srv, body["scan_id"].(string))
	if j.State != "completed" || j.Summary == nil || j.Summary.New != 2 || j.Summary.Format != "mapped" {
		t.Fatalf("job %+v", j)
	}
	status, body = post(t, f.srv, "?format=mapped", "application/octet-stream",
		strings.NewReader(`{"input": "csv", "fields": {"title": "Name"}, "fingerprint": ["title"]}`+"\nName\nx\n"))
	if status != http.StatusAccepted {
		t.Fatalf("status %d: %v", status, body)
	}
	j = waitJob(t, f.srv, body["scan_id"].(string))
	if j.State != "failed" || j.Stage != "parse" || !strings.Contains(j.Error, "mapping: fields.severity: missing") {
		t.Errorf("job %+v", j)
	}
}

// TestEveryListedFormatMayBeNamed: every format GET /v1/scans/formats lists is accepted as the
// ?format= of an upload (dependency-check and npm-audit have hyphens); a name that is none of
// them is refused with 400 naming format.
func TestEveryListedFormatMayBeNamed(t *testing.T) {
	f := newFixture(t, ImportsConfig{}, nil)
	for _, info := range app.Formats() {
		status, body := post(t, f.srv, "?format="+info.Name, "application/octet-stream", strings.NewReader("{}"))
		if status != http.StatusAccepted {
			t.Errorf("format %s: status %d: %v", info.Name, status, body)
		}
	}
	status, body := post(t, f.srv, "?format=no-such-format", "application/octet-stream", strings.NewReader("{}"))
	if status != http.StatusBadRequest || body["field"] != "format" {
		t.Errorf("unknown format: status %d: %v", status, body)
	}
}
