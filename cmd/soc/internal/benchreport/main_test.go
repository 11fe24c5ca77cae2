package main

import (
	"regexp"
	"slices"
	"testing"
)

// SOC_BENCH_ONLY keeps the rows it names and runs only their top-level benchmarks.
func TestOnly(t *testing.T) {
	kept, tops, err := only(pairs, "^QueryAuth/|^Verify$")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range kept {
		names = append(names, p.bench)
	}
	want := []string{"Verify", "QueryAuth/analyst", "QueryAuth/analyst-uncached", "QueryAuth/remediator", "QueryAuth/remediator-uncached"}
	if !slices.Equal(names, want) {
		t.Fatalf("rows %q, want %q", names, want)
	}
	if len(tops) != 2 || !slices.Equal(tops["./cmd/soc"], []string{"QueryAuth"}) ||
		!slices.Equal(tops["./commands/identity/tokens"], []string{"Verify", "BareEd25519Verify"}) {
		t.Fatalf("top-level benchmarks %q", tops)
	}
	if _, _, err := only(pairs, "("); err == nil {
		t.Fatal("an invalid expression was accepted")
	}
}

// The pattern selects the named benchmarks, and only them, as go test matches it.
func TestBenchPattern(t *testing.T) {
	re := regexp.MustCompile(benchPattern([]string{"Verify", "QueryAuth"}))
	for name, want := range map[string]bool{"BenchmarkVerify": true, "BenchmarkQueryAuth": true,
		"BenchmarkBareEd25519Verify": false, "BenchmarkQueryFindings": false, "Verify": false} {
		if re.MatchString(name) != want {
			t.Errorf("%s: matched %v", name, !want)
		}
	}
}

// The gateway rows read gateway and direct from one benchmark, so SOC_BENCH_ONLY=Gateway runs
// BenchmarkGateway alone and prints both rows.
func TestGatewayRows(t *testing.T) {
	kept, tops, err := only(pairs, "^Gateway/")
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0].bench != "Gateway/cache" || kept[1].bench != "Gateway/no-cache" || !slices.Equal(tops["./cmd/soc"], []string{"Gateway"}) {
		t.Fatalf("rows %+v, top-level benchmarks %q", kept, tops)
	}
	for _, p := range kept {
		if p.baselineMetric != "direct-requests/s" || p.metric != "requests/s" || p.latencyKeys != gatewayLatencies {
			t.Errorf("%s: %+v, want requests/s beside direct-requests/s with both sides' latencies", p.bench, p)
		}
	}
}
