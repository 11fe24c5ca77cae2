package main

import (
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
