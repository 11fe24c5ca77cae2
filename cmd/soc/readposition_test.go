package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/principalsig"
	"github.com/socplatform/soc/query-api/querykit"
	"github.com/socplatform/soc/schemas/access"
)

// readPositionOf is the Soc-Read-Position of r; it fails the test when absent or malformed.
func readPositionOf(t *testing.T, r reply, what string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(r.header.Get(querykit.ReadPositionHeader), 10, 64)
	if err != nil || n < 0 {
		t.Fatalf("%s: %d, %s %q", what, r.status, querykit.ReadPositionHeader, r.header.Get(querykit.ReadPositionHeader))
	}
	return n
}

// TestReadPositions (issue 14, contract 2): every GET of the query target answers the read
// position, which only grows; GET /v1/read-position answers once a command's event is applied
// past the position the caller knows, and at the end of its wait otherwise.
func TestReadPositions(t *testing.T) {
	base, admin, _ := signedInNode(t, allTargetsConfig(t))
	longPoll := func(query string) (int64, reply) {
		t.Helper()
		r := call(t, http.MethodGet, base+"/v1/read-position"+query, admin, "")
		var ans struct{ Position int64 }
		if r.status != http.StatusOK || json.Unmarshal([]byte(r.body), &ans) != nil {
			t.Fatalf("GET /v1/read-position%s: %d %s", query, r.status, r.body)
		}
		if h := readPositionOf(t, r, "read-position"); h != ans.Position || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("read-position: header %d, body %d, Cache-Control %q", h, ans.Position, r.header.Get("Cache-Control"))
		}
		return ans.Position, r
	}

	var last int64
	for _, path := range []string{"/v1/findings", "/v1/assets", "/v1/scans", "/v1/events", "/openapi.json", "/v1/findings"} {
		r := call(t, http.MethodGet, base+path, admin, "")
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, r.status, r.body)
		}
		pos := readPositionOf(t, r, "GET "+path)
		if pos < last {
			t.Fatalf("GET %s: read position went back from %d to %d", path, last, pos)
		}
		last = pos
	}
	// Commands are the commands target's: no read position.
	if r := call(t, http.MethodGet, base+"/v1/me", admin, ""); r.header.Get(querykit.ReadPositionHeader) != "" {
		t.Errorf("GET /v1/me (commands target) carries %s", querykit.ReadPositionHeader)
	}

	now, _ := longPoll("")
	if now < last {
		t.Fatalf("read-position %d below a header seen before, %d", now, last)
	}
	// Nothing happens: the long poll answers at the end of its wait, with the position it was
	// given. (The node's own start-up events may still be applied: then it answers at once,
	// with a higher position, and the next poll waits from there.)
	for idle := false; !idle; {
		pos, _ := longPoll(fmt.Sprintf("?after=%d&wait=300ms", now))
		if pos < now {
			t.Fatalf("a long poll after %d answered %d", now, pos)
		}
		idle, now = pos == now, pos
	}
	// A command's event is applied: the waiting long poll answers a position at or above it.
	got := make(chan int64, 1)
	go func() {
		r := call(t, http.MethodGet, base+fmt.Sprintf("/v1/read-position?after=%d&wait=30", now), admin, "")
		var ans struct{ Position int64 }
		_ = json.Unmarshal([]byte(r.body), &ans)
		got <- ans.Position
	}()
	r := call(t, http.MethodPost, base+"/v1/assets", admin, `{"kind":"host","name":"position-check","identifiers":{"hostnames":["position.example.com"]}}`)
	var res struct {
		GlobalPosition int64 `json:"global_position"`
	}
	if (r.status != http.StatusCreated && r.status != http.StatusOK) || json.Unmarshal([]byte(r.body), &res) != nil || res.GlobalPosition <= now {
		t.Fatalf("registering an asset: %d %s (read position %d)", r.status, r.body, now)
	}
	select {
	case pos := <-got:
		if pos <= now {
			t.Fatalf("the long poll answered %d, not past %d", pos, now)
		}
	case <-time.After(25 * time.Second): // far below the poll's 30 s wait: it answered on the change
		t.Fatal("the long poll did not answer when the projection applied the command")
	}
	// Once the command is applied, reads answer a position at or above it.
	r = call(t, http.MethodGet, base+fmt.Sprintf("/v1/assets?min_position=%d", res.GlobalPosition), admin, "")
	if pos := readPositionOf(t, r, "GET /v1/assets?min_position"); pos < res.GlobalPosition {
		t.Fatalf("after min_position=%d the read position is %d", res.GlobalPosition, pos)
	}

	// Bad parameters are a 400 naming the parameter.
	for _, q := range []string{"?after=-1", "?after=x", "?wait=31", "?wait=1h", "?wait=-1s", "?after=1&after=2", "?since=1"} {
		r := call(t, http.MethodGet, base+"/v1/read-position"+q, admin, "")
		name, _, _ := strings.Cut(strings.TrimPrefix(q, "?"), "=")
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, `"`+name+`"`) {
			t.Errorf("GET /v1/read-position%s: %d %s", q, r.status, r.body)
		}
	}
	if r := call(t, http.MethodGet, base+"/v1/read-position", "", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET /v1/read-position anonymous: %d", r.status)
	}
}

// TestReadPositionsWithoutLocalProjections: a query target whose projections run in another
// node reads the position from the read-model database's checkpoints, and its long poll follows
// them. A commands+projections node and a query-only node share a data directory; the query
// node is reached through a trusted gateway's principal (it serves no sign-in).
func TestReadPositionsWithoutLocalProjections(t *testing.T) {
	keyPath := filepath.Join(t.TempDir(), "gateway.key")
	gw, err := principalsig.LoadOrCreateSigner(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	writeCfg := allTargetsConfig(t)
	writeCfg.Targets = []string{"commands", "projections"}
	writer, admin, _ := signedInNode(t, writeCfg)
	cfg := allTargetsConfig(t)
	cfg.DataDir = writeCfg.DataDir
	cfg.Targets = []string{"query"}
	cfg.TrustGatewayKeys = []string{keyPath + ".pub"}
	addr, _ := serveInProcess(t, cfg)
	get := func(path, query string) reply {
		tok, err := gw.Sign(rolePrincipal(access.RoleAdmin))
		if err != nil {
			t.Fatal(err)
		}
		return gatewayCall(t, http.MethodGet, "http://"+addr+path+query, "", tok)
	}
	r := get("/v1/assets", "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /v1/assets on a query-only node: %d %s", r.status, r.body)
	}
	before := readPositionOf(t, r, "GET /v1/assets")

	r = call(t, http.MethodPost, writer+"/v1/assets", admin, `{"kind":"host","name":"remote-position","identifiers":{"hostnames":["remote.example.com"]}}`)
	var res struct {
		GlobalPosition int64 `json:"global_position"`
	}
	if (r.status != http.StatusCreated && r.status != http.StatusOK) || json.Unmarshal([]byte(r.body), &res) != nil || res.GlobalPosition <= before {
		t.Fatalf("registering an asset: %d %s (read position %d)", r.status, r.body, before)
	}
	// The long poll answers once the other node's projections pass the command's position.
	for pos := before; pos < res.GlobalPosition; {
		r := get("/v1/read-position", fmt.Sprintf("?after=%d&wait=30", pos))
		next := readPositionOf(t, r, "read-position")
		if r.status != http.StatusOK || next <= pos {
			t.Fatalf("GET /v1/read-position?after=%d: %d %s", pos, r.status, r.body)
		}
		pos = next
	}
	r = get("/v1/assets", "")
	if pos := readPositionOf(t, r, "GET /v1/assets"); pos < res.GlobalPosition || !strings.Contains(r.body, "remote-position") {
		t.Fatalf("after the position passed %d: read position %d, %s", res.GlobalPosition, pos, r.body)
	}
}
