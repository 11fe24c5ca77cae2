package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	vulnports "github.com/socplatform/soc/commands/vulns/ports"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/contracts"
)

// benchCommandCount is how many commands each case of BenchmarkCommandLatency times
// (SOC_BENCH_COMMANDS, default 200).
func benchCommandCount() int {
	if n, err := strconv.Atoi(os.Getenv("SOC_BENCH_COMMANDS")); err == nil && n > 0 {
		return n
	}
	return 200
}

// BenchmarkCommandLatency: POST /v1/findings/{id}/comment through the real handlers on SQLite,
// on findings whose streams already hold 10, 1,000 or 10,000 events, with aggregate snapshots
// (the default, every 100 events) and without them (every command replays its whole stream: the
// baseline, in the same run). One client, so the figures are a command's latency, not queueing.
// The commands go round-robin over 8 findings per case, after one warm-up command on each (the
// one that saves a long stream's first snapshot), so each stream grows by a few dozen events.
func BenchmarkCommandLatency(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		for _, mode := range []string{"snapshots", "replay"} {
			b.Run(fmt.Sprintf("events=%d/%s", n, mode), func(b *testing.B) { benchCommands(b, n, mode == "snapshots") })
		}
	}
}

func benchCommands(b *testing.B, streamLen int, snapshots bool) {
	store, _ := eventstest.OpenSQLite(b, sqlite.Config{})
	if !snapshots {
		store.SetSnapshotEvery(0)
	}
	mux := http.NewServeMux()
	if err := vulnports.Register(mux, store, vulnports.Config{Schemas: schemas.CommandsFS()}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	findings := make([]string, 8)
	for i := range findings {
		findings[i] = benchFinding(b, store, streamLen)
	}
	post := func(id string, i int) {
		resp, err := http.Post(srv.URL+"/v1/findings/"+id+"/comment", "application/json", strings.NewReader(`{"comment":"c`+strconv.Itoa(i)+`"}`))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("comment: %d", resp.StatusCode)
		}
	}
	for _, id := range findings {
		post(id, -1)
	}
	n := benchCommandCount()
	lat := make([]time.Duration, 0, n*b.N)
	b.ResetTimer()
	start := time.Now()
	for it := range b.N {
		for i := range n {
			t0 := time.Now()
			post(findings[i%len(findings)], it*n+i)
			lat = append(lat, time.Since(t0))
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	reportLatencies(b, lat, elapsed, "commands/s")
}

// benchFinding opens a finding whose stream holds n events: its FindingOpened and comments.
func benchFinding(b *testing.B, store *events.Guarded, n int) string {
	b.Helper()
	id := events.NewStreamID("vulns", "finding")
	opened, _ := json.Marshal(contracts.FindingOpened{AssetID: events.NewStreamID("assets", "asset"), Scope: "bench", IdentityKey: "k-" + id,
		Fingerprint: "fp", ScanID: "scan-1", Format: "trivy", Title: "CVE-2024-0001 in openssl", Severity: "high", SeenAt: time.Now().UTC()})
	batch := []events.Envelope{{Type: contracts.TypeFindingOpened, Data: opened}}
	comment, _ := json.Marshal(contracts.FindingCommented{Comment: "earlier"})
	ctx := context.Background()
	expected := events.NoStream
	for written := 0; written < n; {
		for len(batch) < min(1000, n-written) {
			batch = append(batch, events.Envelope{Type: contracts.TypeFindingCommented, Data: comment})
		}
		res, err := store.Append(ctx, id, expected, batch)
		if err != nil {
			b.Fatal(err)
		}
		written += len(batch)
		expected, batch = events.Exact(res.NextExpectedVersion), batch[:0]
	}
	return id
}
