package events_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/socplatform/soc/events"
)

// TestPlatformRegistryUpcastsPublishedVersions: events written under a published v1 read as the
// latest version, unchanged (the later versions only add optional fields or widen an enum), and
// are valid there.
func TestPlatformRegistryUpcastsPublishedVersions(t *testing.T) {
	r, err := events.PlatformRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ typ, data string }{
		{"FindingOpened", `{"asset_id":"assets-asset-0190a3f4-0000-7000-8000-000000000001","scope":"s","identity_key":"k","fingerprint":"f",` +
			`"scan_id":"scan-1","format":"sarif","title":"t","severity":"high","seen_at":"2026-01-02T03:04:05Z","location":{"file":"a.go","line":3}}`},
		{"ScanImportCompleted", `{"scan_id":"0190a3f4-0000-7000-8000-000000000001","format":"sarif","findings_total":1,` +
			`"by_severity":{"critical":0,"high":1,"medium":0,"low":0,"info":0},"new":1,"unchanged":0,"reopened":0,"resolved":0,"closed":0,"skipped":0,"assets_discovered":0,"assets_matched":1}`},
		{"ApiTokenIssued", `{"name":"ci","owner_id":"identity-user-0190a3f4-0000-7000-8000-000000000001","scopes":["imports:write","scans:read"],` +
			`"secret_sha256":"` + strings.Repeat("ab", 32) + `","expires_at":"2026-01-02T03:04:05Z"}`},
		{"RoleDefined", `{"name":"triager","permissions":["findings:read","findings:triage"],"description":"d"}`},
	} {
		if _, err := r.Validate(0, tc.typ, 1, json.RawMessage(tc.data)); err != nil {
			t.Fatalf("%s: the v1 sample is not valid v1: %v", tc.typ, err)
		}
		e := events.Envelope{EventID: "e", Type: tc.typ, SchemaVersion: 1, Data: json.RawMessage(tc.data)}
		if err := r.Upcast(&e); err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		if e.SchemaVersion != 2 || string(e.Data) != tc.data {
			t.Fatalf("%s upcast to v%d: %s", tc.typ, e.SchemaVersion, e.Data)
		}
		if _, err := r.Validate(0, tc.typ, 2, e.Data); err != nil {
			t.Fatalf("%s: upcast data is not valid v2: %v", tc.typ, err)
		}
	}
}

// TestIdentityV2AcceptsEveryPermission: v1 of the events that list permissions refuses the
// permissions added after its publication; v2 takes them.
func TestIdentityV2AcceptsEveryPermission(t *testing.T) {
	r, err := events.PlatformRegistry()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ typ, data string }{
		{"ApiTokenIssued", `{"name":"ci","owner_id":"identity-user-0190a3f4-0000-7000-8000-000000000001","scopes":["reports:write"],` +
			`"secret_sha256":"` + strings.Repeat("ab", 32) + `","expires_at":"2026-01-02T03:04:05Z"}`},
		{"RoleDefined", `{"name":"reader","permissions":["analytics:read","reports:manage","reports:read"]}`},
	} {
		if _, err := r.Validate(0, tc.typ, 1, json.RawMessage(tc.data)); err == nil {
			t.Errorf("%s v1 accepted a permission it never listed: %s", tc.typ, tc.data)
		}
		if _, err := r.Validate(0, tc.typ, 2, json.RawMessage(tc.data)); err != nil {
			t.Errorf("%s v2: %v", tc.typ, err)
		}
	}
}
