package ports_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
)

// Concurrent commands without If-Match on one finding all succeed: the client expressed no
// expectation about the version, so the server retries the ones that lost a race.
func TestConcurrentCommandsWithoutIfMatchAllSucceed(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	const n = 50
	replies := make([]reply, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { replies[i] = e.post("/v1/findings/"+id+"/comment", `{"comment":"c`+itoa(int64(i))+`"}`) })
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i, r := range replies {
		if r.Status != http.StatusOK {
			t.Fatalf("command %d: %d %v", i, r.Status, r.Body)
		}
		if v := r.Num("version"); v < 2 || v > n+1 || seen[v] {
			t.Fatalf("command %d answered version %d (twice, or out of range)", i, v)
		}
		seen[r.Num("version")] = true
	}
	if got := len(e.types(id)); got != n+1 {
		t.Fatalf("%d events, want %d", got, n+1)
	}
}

// A stale If-Match is a 409 that names the version the client sent and the current one.
func TestStaleIfMatchNamesBothVersions(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	for range 3 {
		if r := e.post("/v1/findings/"+id+"/comment", `{"comment":"c"}`); r.Status != http.StatusOK {
			t.Fatal(r.Body)
		}
	}
	r := e.post("/v1/findings/"+id+"/comment", `{"comment":"late"}`, "If-Match", `"2"`)
	expectProblem(t, r, http.StatusConflict, "")
	if r.Num("expected_version") != 2 || r.Num("current_version") != 4 || !strings.Contains(r.Str("detail"), "expected exact(2)") {
		t.Fatalf("409 body %v, want expected_version 2 and current_version 4", r.Body)
	}
	if n := len(e.types(id)); n != 4 {
		t.Fatalf("%d events after a stale If-Match, want 4", n)
	}
}

// An Idempotency-Key is bound to its request: the same command and body (whatever its spacing
// or key order) replays the first answer, another body or another command on the same finding is
// a 422 naming the key, and neither appends anything.
func TestIdempotencyKeyReuseWithAnotherRequestIs422(t *testing.T) {
	e := newEnv(t)
	id := e.open()
	first := e.post("/v1/findings/"+id+"/assign", `{"owner":"team-a"}`, "Idempotency-Key", "k-1")
	if first.Status != http.StatusOK {
		t.Fatal(first.Body)
	}
	again := e.post("/v1/findings/"+id+"/assign", ` { "owner" : "team-a" } `, "Idempotency-Key", "k-1")
	if again.Status != http.StatusOK || again.Header.Get("Idempotent-Replayed") != "true" || again.Num("version") != first.Num("version") ||
		again.Num("global_position") != first.Num("global_position") {
		t.Fatalf("same request: %d %v %v, first %v", again.Status, again.Header, again.Body, first.Body)
	}
	expectProblem(t, e.post("/v1/findings/"+id+"/assign", `{"owner":"team-b"}`, "Idempotency-Key", "k-1"), http.StatusUnprocessableEntity, "idempotency_key")
	expectProblem(t, e.post("/v1/findings/"+id+"/comment", `{"comment":"x"}`, "Idempotency-Key", "k-1"), http.StatusUnprocessableEntity, "idempotency_key")
	if got := e.types(id); strings.Join(got, ",") != "FindingOpened,FindingAssigned" {
		t.Fatalf("stream %v", got)
	}
}
