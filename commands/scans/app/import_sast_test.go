package app_test

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/events/adapters/sqlite"
)

// Reimports of the SAST formats whose fingerprints leave the line out (SonarQube issue keys,
// KICS similarity ids, Checkmarx similarity ids): a report whose findings moved to other lines
// is all unchanged, and one that lacks a finding resolves exactly that one.
func TestSASTReimportMovedAndRemoved(t *testing.T) {
	for _, tc := range []struct {
		format, file string
		moved        func(t *testing.T, b []byte) []byte
		removed      func(t *testing.T, b []byte) []byte
	}{
		{"sonarqube", "sonarqube_issues_pages_webshop.json",
			func(t *testing.T, b []byte) []byte {
				return editJSON(t, b, func(v any) {
					for _, page := range v.([]any) {
						for _, is := range page.(map[string]any)["issues"].([]any) {
							if is := is.(map[string]any); is["line"] != nil {
								is["line"] = is["line"].(float64) + 12
							}
						}
					}
				})
			},
			func(t *testing.T, b []byte) []byte {
				return editJSON(t, b, func(v any) {
					page := v.([]any)[0].(map[string]any)
					page["issues"] = page["issues"].([]any)[1:] // the open SQL injection
				})
			}},
		{"kics", "kics_1_7_terraform_docker.json",
			func(t *testing.T, b []byte) []byte {
				return editJSON(t, b, func(v any) {
					for _, q := range v.(map[string]any)["queries"].([]any) {
						for _, f := range q.(map[string]any)["files"].([]any) {
							f := f.(map[string]any)
							f["line"] = f["line"].(float64) + 3
						}
					}
				})
			},
			func(t *testing.T, b []byte) []byte {
				return editJSON(t, b, func(v any) {
					doc := v.(map[string]any)
					doc["queries"] = doc["queries"].([]any)[1:] // the S3 bucket ACL
				})
			}},
		{"checkmarx", "checkmarx_9_java_webshop.xml",
			func(t *testing.T, b []byte) []byte {
				return regexp.MustCompile(`Line="(\d+)"`).ReplaceAll(b, []byte(`Line="1$1"`))
			},
			func(t *testing.T, b []byte) []byte {
				out := regexp.MustCompile(`(?s)<Result NodeId="10004120003".*?</Result>`).ReplaceAll(b, nil) // the XSS
				if bytes.Equal(out, b) {
					t.Fatal("no Result removed")
				}
				return out
			}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			orig := readFile(t, importertest.File(t, tc.format, tc.file))
			total := uniqueFindings(parse(t, tc.format, orig))
			store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
			fallback := registerAsset(t, store, "sast")
			im := newImporter(t, store)
			req := app.ImportScanReport{Format: tc.format, Asset: fallback}
			if s := importBytes(t, im, orig, req); s.New != total {
				t.Fatalf("first import: %+v, want %d new", s, total)
			}
			if s := importBytes(t, im, tc.moved(t, orig), req); s.Unchanged != total || s.New != 0 || s.Resolved != 0 {
				t.Fatalf("moved findings: %+v, want %d unchanged only", s, total)
			}
			removed := tc.removed(t, orig)
			if n := uniqueFindings(parse(t, tc.format, removed)); n != total-1 {
				t.Fatalf("the edited report has %d findings, want %d", n, total-1)
			}
			if s := importBytes(t, im, removed, req); s.Resolved != 1 || s.Unchanged != total-1 || s.New != 0 {
				t.Fatalf("one finding removed: %+v, want 1 resolved, %d unchanged", s, total-1)
			}
		})
	}
}

// editJSON decodes b, lets edit change it and encodes it again.
func editJSON(t *testing.T, b []byte, edit func(v any)) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	edit(v)
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
