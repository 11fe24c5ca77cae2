package ports_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/assets/ports"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
)

type env struct {
	t     *testing.T
	store *events.Guarded
	index *liveIndex
	srv   *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	store := testsupport.SQLiteStore(t)
	index := &liveIndex{x: domain.NewIndex()}
	mux := http.NewServeMux()
	if err := ports.Register(mux, store, index, ports.Config{Schemas: testsupport.CommandSchemas(t)}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, store: store, index: index, srv: srv}
}

// sync feeds the index every stored event, as the importer does by following the store.
func (e *env) sync() {
	e.t.Helper()
	evs, err := e.store.ReadAll(context.Background(), 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	x := domain.NewIndex()
	for i := range evs {
		if err := x.Apply(&evs[i]); err != nil {
			e.t.Fatal(err)
		}
	}
	e.index.set(x)
}

// liveIndex is the Claims the endpoints get; sync swaps in an index rebuilt from the store.
type liveIndex struct {
	mu sync.Mutex
	x  *domain.Index
}

func (l *liveIndex) set(x *domain.Index) { l.mu.Lock(); l.x = x; l.mu.Unlock() }

func (l *liveIndex) Claimed(kind domain.AssetKind, ids domain.Identifiers, except string) []domain.Claim {
	l.mu.Lock()
	x := l.x
	l.mu.Unlock()
	return x.Claimed(kind, ids, except)
}

type reply = testsupport.Reply

func (e *env) do(method, path, body string, headers ...string) reply {
	e.t.Helper()
	return testsupport.Do(e.t, method, e.srv.URL+path, body, headers...)
}

func (e *env) post(path, body string, headers ...string) reply {
	e.t.Helper()
	return e.do(http.MethodPost, path, body, headers...)
}

func (e *env) register(body string, headers ...string) (string, reply) {
	e.t.Helper()
	r := e.post("/v1/assets", body, headers...)
	if r.Status != http.StatusCreated {
		e.t.Fatalf("register: %d %v", r.Status, r.Body)
	}
	id := r.Str("stream_id")
	if !domain.IsAssetID(id) || r.Header.Get("Location") != "/v1/assets/"+id || r.Num("version") != 1 || r.Num("global_position") <= 0 {
		e.t.Fatalf("register: %v, Location %q", r.Body, r.Header.Get("Location"))
	}
	return id, r
}

func (e *env) types(id string) []string {
	e.t.Helper()
	return testsupport.StreamTypes(e.t, e.store, id)
}

var expectProblem = testsupport.ExpectProblem

const host = `{"kind":"host","name":"web-1","identifiers":{"ips":["10.0.0.1"],"macs":["3c:22:fb:01:02:03"]},"criticality":"high","tags":["PCI"]}`

func TestEveryCommandHappyPath(t *testing.T) {
	e := newEnv(t)
	id, _ := e.register(host)
	target, _ := e.register(`{"kind":"web_application","name":"shop","identifiers":{"base_url":"https://shop.example.com"}}`)
	steps := []struct{ method, path, body, event string }{
		{http.MethodPatch, "", `{"name":"web-01"}`, "AssetUpdated"},
		{http.MethodPost, "/update", `{"description":"front end","identifiers":{"ips":["10.0.0.1","10.0.0.2"],"macs":["3c:22:fb:01:02:03"]}}`, "AssetUpdated"},
		{http.MethodPost, "/classify", `{"environment":"production","owner_team":"web","tags":["pci","dmz"]}`, "AssetClassified"},
		{http.MethodPost, "/link", `{"relation":"exposes","target_asset_id":"` + target + `"}`, "AssetLinked"},
		{http.MethodPost, "/unlink", `{"relation":"exposes","target_asset_id":"` + target + `"}`, "AssetUnlinked"},
		{http.MethodPost, "/retire", `{"reason":"decommissioned"}`, "AssetRetired"},
		{http.MethodPost, "/reactivate", `{"reason":"back in service"}`, "AssetReactivated"},
	}
	want := []string{"AssetRegistered"}
	for i, s := range steps {
		r := e.do(s.method, "/v1/assets/"+id+s.path, s.body)
		if r.Status != http.StatusOK || r.Str("stream_id") != id || r.Num("version") != int64(i+2) {
			t.Fatalf("%s %s: %d %v", s.method, s.path, r.Status, r.Body)
		}
		want = append(want, s.event)
	}
	if got := e.types(id); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("stream\n got %v\nwant %v", got, want)
	}
	// A classification that changes nothing appends nothing and answers the current version.
	r := e.post("/v1/assets/"+id+"/classify", `{"environment":"production"}`)
	if r.Status != http.StatusOK || r.Num("version") != int64(len(want)) {
		t.Fatalf("no-op classify: %d %v", r.Status, r.Body)
	}
}

func TestLifecycleAndRules(t *testing.T) {
	e := newEnv(t)
	id, _ := e.register(host)
	expectProblem(t, e.post("/v1/assets/"+id+"/reactivate", `{"reason":"x"}`), http.StatusConflict, "/status")
	expectProblem(t, e.post("/v1/assets/"+id+"/retire", `{}`), http.StatusUnprocessableEntity, "/reason")
	expectProblem(t, e.post("/v1/assets/"+id+"/link", `{"relation":"runs_on","target_asset_id":"`+events.NewStreamID("assets", "asset")+`"}`),
		http.StatusUnprocessableEntity, "/target_asset_id")
	expectProblem(t, e.post("/v1/assets/"+id+"/link", `{"relation":"owns","target_asset_id":"`+id+`"}`), http.StatusUnprocessableEntity, "/relation")
	if r := e.post("/v1/assets/"+id+"/retire", `{"reason":"gone"}`); r.Status != http.StatusOK {
		t.Fatal(r.Body)
	}
	expectProblem(t, e.post("/v1/assets/"+id+"/retire", `{"reason":"again"}`), http.StatusConflict, "/status")
	expectProblem(t, e.post("/v1/assets/"+id+"/classify", `{"criticality":"low"}`), http.StatusConflict, "/status")
	expectProblem(t, e.post("/v1/assets", `{"kind":"host","name":"x","identifiers":{}}`), http.StatusUnprocessableEntity, "/identifiers")
	expectProblem(t, e.post("/v1/assets", `{"kind":"toaster","name":"x","identifiers":{"ips":["10.0.0.9"]}}`), http.StatusUnprocessableEntity, "/kind")
	if got := e.types(id); strings.Join(got, ",") != "AssetRegistered,AssetRetired" {
		t.Fatalf("stream %v", got)
	}
}

func TestMalformedAndOversized(t *testing.T) {
	e := newEnv(t)
	id, _ := e.register(host)
	expectProblem(t, e.post("/v1/assets", `{"kind":"host","name":"x","identifiers":{"ips":["10.0.0.9"],"serial":"1"}}`), http.StatusBadRequest, "/identifiers/serial")
	expectProblem(t, e.post("/v1/assets/"+id+"/retire", `{"reason":"x","when":"now"}`), http.StatusBadRequest, "/when")
	expectProblem(t, e.post("/v1/assets/"+id+"/classify", `{"criticality":"extreme"}`), http.StatusBadRequest, "/criticality")
	expectProblem(t, e.post("/v1/assets/"+id+"/retire", `{"reason":"`+strings.Repeat("r", 1<<20)+`"}`), http.StatusRequestEntityTooLarge, "body")
	if n := len(e.types(id)); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestUnknownAssetIs404(t *testing.T) {
	e := newEnv(t)
	for _, id := range []string{events.NewStreamID("assets", "asset"), "nope"} {
		r := e.post("/v1/assets/"+id+"/retire", `{"reason":"x"}`)
		if r.Status != http.StatusNotFound {
			t.Fatalf("%s: %d %v", id, r.Status, r.Body)
		}
	}
}

func TestRegisterIsIdempotent(t *testing.T) {
	e := newEnv(t)
	id, first := e.register(host, "Idempotency-Key", "create-web-1")
	id2, again := e.register(host, "Idempotency-Key", "create-web-1")
	if id2 != id || again.Num("version") != first.Num("version") || again.Num("global_position") != first.Num("global_position") {
		t.Fatalf("replay %v, first %v", again.Body, first.Body)
	}
	all, err := e.store.ReadAll(context.Background(), 0, 0)
	if err != nil || len(all) != 1 {
		t.Fatalf("%d events in the store (%v), want 1", len(all), err)
	}
	// Same key on a command: answered once.
	a := e.post("/v1/assets/"+id+"/retire", `{"reason":"x"}`, "Idempotency-Key", "retire-1")
	b := e.post("/v1/assets/"+id+"/retire", `{"reason":"x"}`, "Idempotency-Key", "retire-1")
	if a.Status != http.StatusOK || b.Status != http.StatusOK || a.Num("global_position") != b.Num("global_position") {
		t.Fatalf("retire replay: %d %v / %d %v", a.Status, a.Body, b.Status, b.Body)
	}
	if n := len(e.types(id)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

func TestStrongIdentifiersAreUnique(t *testing.T) {
	e := newEnv(t)
	first, _ := e.register(host)
	e.sync()
	expectProblem(t, e.post("/v1/assets", `{"kind":"host","name":"web-2","identifiers":{"macs":["3C-22-FB-01-02-03"]}}`), http.StatusConflict, "/identifiers/macs")
	second, _ := e.register(`{"kind":"host","name":"web-2","identifiers":{"macs":["3c:22:fb:0a:0b:0c"]}}`)
	e.sync()
	expectProblem(t, e.post("/v1/assets/"+second+"/update", `{"identifiers":{"macs":["3c:22:fb:01:02:03"]}}`), http.StatusConflict, "/identifiers/macs")
	// Updating an asset with its own identifiers is fine.
	if r := e.post("/v1/assets/"+first+"/update", `{"identifiers":{"macs":["3c:22:fb:01:02:03"],"hostnames":["web-1.example.com"]}}`); r.Status != http.StatusOK {
		t.Fatalf("%d %v", r.Status, r.Body)
	}
	// Retire the first, register its MAC again, then reactivating the first is refused.
	if r := e.post("/v1/assets/"+first+"/retire", `{"reason":"replaced"}`); r.Status != http.StatusOK {
		t.Fatal(r.Body)
	}
	e.sync()
	e.register(`{"kind":"host","name":"web-1b","identifiers":{"macs":["3c:22:fb:01:02:03"]}}`)
	e.sync()
	expectProblem(t, e.post("/v1/assets/"+first+"/reactivate", `{"reason":"back"}`), http.StatusConflict, "/identifiers/macs")
}

func TestIfMatchStaleIs409(t *testing.T) {
	e := newEnv(t)
	id, _ := e.register(host)
	expectProblem(t, e.post("/v1/assets/"+id+"/classify", `{"criticality":"low"}`, "If-Match", `"0"`), http.StatusConflict, "")
	if r := e.post("/v1/assets/"+id+"/classify", `{"criticality":"low"}`, "If-Match", `"1"`); r.Status != http.StatusOK || r.Num("version") != 2 {
		t.Fatalf("%d %v", r.Status, r.Body)
	}
	if n := len(e.types(id)); n != 2 {
		t.Fatalf("%d events, want 2", n)
	}
}

// An empty value in a classification or update body is a value, not an absent field: owner_team
// "" clears the owner, tags [] clears the tags, name "" is refused; an absent field stays.
func TestEmptyValuesAreNotAbsentFields(t *testing.T) {
	e := newEnv(t)
	id, _ := e.register(host)
	for _, s := range []struct{ body, event string }{
		{`{"owner_team":"web"}`, "AssetClassified"},
		{`{}`, ""},
		{`{"owner_team":""}`, "AssetClassified"},
		{`{"owner_team":""}`, ""},
		{`{"tags":[]}`, "AssetClassified"},
		{`{"tags":[]}`, ""},
	} {
		before := len(e.types(id))
		if r := e.post("/v1/assets/"+id+"/classify", s.body); r.Status != http.StatusOK {
			t.Fatalf("classify %s: %d %v", s.body, r.Status, r.Body)
		}
		got := e.types(id)
		switch {
		case s.event == "" && len(got) != before:
			t.Fatalf("classify %s recorded %v", s.body, got[before:])
		case s.event != "" && (len(got) != before+1 || got[before] != s.event):
			t.Fatalf("classify %s: stream %v, want one %s more", s.body, got, s.event)
		}
	}
	expectProblem(t, e.do(http.MethodPatch, "/v1/assets/"+id, `{"name":""}`), http.StatusUnprocessableEntity, "/name")
}
