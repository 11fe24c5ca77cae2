package contracts

import (
	"encoding/json"
	"testing"
)

// TestEmbeddedPayloadKeepsTheSchemaOrder: a payload that embeds another (ScanDefinitionCreated,
// ScanDefinitionUpdated; ScanImportCompletedV2, ScanImportCompleted) writes the bytes its flat
// struct wrote: every field in the schema's order, the embedded ones in place, and reads them
// back whole.
func TestEmbeddedPayloadKeepsTheSchemaOrder(t *testing.T) {
	timing := 4
	in := ScanDefinitionCreated{ScanDefinitionUpdated: ScanDefinitionUpdated{Name: "n", Scanner: ScannerNmap,
		Target: ScanTarget{Addresses: []string{"10.0.0.1"}}, Options: &ScanOptions{Timing: &timing}, Schedule: "@hourly",
		TimeoutSeconds: 60, MaxAttempts: 2, RetryBackoffSeconds: 5, Format: "nmap"}, TokenSHA256: "ab"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"name":"n","scanner":"nmap","target":{"addresses":["10.0.0.1"]},"options":{"timing":4},"schedule":"@hourly",` +
		`"timeout_seconds":60,"max_attempts":2,"retry_backoff_seconds":5,"format":"nmap","token_sha256":"ab"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var out ScanDefinitionCreated
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Name != "n" || out.Format != "nmap" || *out.Options.Timing != 4 || out.TokenSHA256 != "ab" {
		t.Errorf("read back %+v", out)
	}

	parsed := 3
	b, err = json.Marshal(ScanImportCompletedV2{ScanImportCompleted: ScanImportCompleted{ScanID: "s", Format: "trivy", New: 1,
		BySeverity: ScanImportCompletedBySeverity{High: 1}}, Parsed: &parsed})
	if err != nil {
		t.Fatal(err)
	}
	const wantV2 = `{"scan_id":"s","format":"trivy","findings_total":0,"by_severity":{"critical":0,"high":1,"medium":0,"low":0,"info":0},` +
		`"new":1,"unchanged":0,"reopened":0,"resolved":0,"closed":0,"skipped":0,"assets_discovered":0,"assets_matched":0,"parsed":3}`
	if string(b) != wantV2 {
		t.Errorf("got  %s\nwant %s", b, wantV2)
	}
}
