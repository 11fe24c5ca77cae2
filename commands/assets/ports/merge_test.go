package ports_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestMergeEndpoint: POST /v1/assets/{id}/merge appends AssetMergedInto on the source and
// AssetMerged on the target; repeating it appends nothing; self-merges, retired targets and
// cycles are refused with 422 naming /target_asset_id.
func TestMergeEndpoint(t *testing.T) {
	e := newEnv(t)
	src, _ := e.register(host)
	dst, _ := e.register(`{"kind":"host","name":"web-1b","identifiers":{"ips":["10.0.0.9"]}}`)
	body := `{"target_asset_id":"` + dst + `","reason":"same machine"}`
	for i := 0; i < 2; i++ {
		r := e.post("/v1/assets/"+src+"/merge", body)
		if r.Status != http.StatusOK || r.Str("stream_id") != src || r.Num("version") != 2 {
			t.Fatalf("merge #%d: %d %v", i+1, r.Status, r.Body)
		}
	}
	if got := strings.Join(e.types(src), ","); got != "AssetRegistered,AssetMergedInto" {
		t.Fatalf("source stream %s", got)
	}
	if got := strings.Join(e.types(dst), ","); got != "AssetRegistered,AssetMerged" {
		t.Fatalf("target stream %s", got)
	}
	other, _ := e.register(`{"kind":"host","name":"c","identifiers":{"ips":["10.0.0.10"]}}`)
	for name, c := range map[string]struct{ id, target string }{
		"self":           {other, other},
		"into a merged":  {other, src},
		"cycle":          {dst, src},
		"unknown target": {other, "assets-asset-0190a000-0000-7000-8000-000000000099"},
	} {
		r := e.post("/v1/assets/"+c.id+"/merge", `{"target_asset_id":"`+c.target+`"}`)
		if r.Status != http.StatusUnprocessableEntity || r.Str("field") != "/target_asset_id" {
			t.Errorf("%s: %d %v", name, r.Status, r.Body)
		}
	}
	if r := e.post("/v1/assets/"+src+"/reactivate", `{"reason":"back"}`); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("reactivating a merged asset: %d %v", r.Status, r.Body)
	}
}
