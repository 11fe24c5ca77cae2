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

// An analytics query row reads its baseline from another package (SQLite's sqlstore beside
// ClickHouse), so SOC_BENCH_ONLY runs each side's top-level benchmark in its own package.
func TestBaselineInAnotherPackage(t *testing.T) {
	kept, tops, err := only(pairs, "^MillionQueries/mttr/team$")
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || kept[0].bench != "Queries/mttr/team" || kept[0].basePackage() != "./projections/analytics/sqlstore" || kept[0].metric != "p99-ms" {
		t.Fatalf("rows %+v", kept)
	}
	if len(tops) != 2 || !slices.Equal(tops["./projections/analytics/clickhouse"], []string{"Queries"}) ||
		!slices.Equal(tops["./projections/analytics/sqlstore"], []string{"MillionQueries"}) {
		t.Fatalf("top-level benchmarks %q", tops)
	}
	for _, q := range analyticsQueries {
		for _, scope := range []string{"all", "team"} {
			if k, _, _ := only(pairs, "^Queries/"+q+"/"+scope+"$"); len(k) != 1 || k[0].baseline != "MillionQueries/"+q+"/"+scope {
				t.Errorf("%s/%s: rows %+v", q, scope, k)
			}
		}
	}
	if (pair{pkg: "./a"}).basePackage() != "./a" {
		t.Error("a row without basePkg reads its baseline from another package")
	}
}

// The search rows (issue 17): each server's faceted query reads its baseline from FTS5's
// package, and command → searchable reads the plain GET from the same benchmark, so
// SOC_BENCH_ONLY=FacetedSearch runs BenchmarkFacetedSearch in both packages and nothing else.
func TestSearchRows(t *testing.T) {
	kept, tops, err := only(pairs, "^FacetedSearch")
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || kept[0].bench != "FacetedSearch/elasticsearch" || kept[1].bench != "FacetedSearch/opensearch" {
		t.Fatalf("rows %+v", kept)
	}
	for _, p := range kept {
		if p.basePackage() != "./projections/search/fts" || p.baseline != "FacetedSearch" || p.metric != "p99-ms" || !p.latencies {
			t.Errorf("%s: %+v, want p99-ms beside FTS5's FacetedSearch", p.bench, p)
		}
	}
	if len(tops) != 2 || !slices.Equal(tops["./projections/search/elastic"], []string{"FacetedSearch"}) ||
		!slices.Equal(tops["./projections/search/fts"], []string{"FacetedSearch"}) {
		t.Fatalf("top-level benchmarks %q", tops)
	}
	kept, tops, err = only(pairs, "^SearchVisibility/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range kept {
		names = append(names, p.bench)
		if p.baselineMetric != "get-p99-ms" || p.metric != "p99-ms" || p.latencyKeys != visibilityLatencies {
			t.Errorf("%s: %+v, want p99-ms beside get-p99-ms with both sides' latencies", p.bench, p)
		}
	}
	if want := []string{"SearchVisibility/elasticsearch", "SearchVisibility/opensearch", "SearchVisibility/fts5"}; !slices.Equal(names, want) {
		t.Errorf("rows %q, want %q", names, want)
	}
	if len(tops) != 1 || !slices.Equal(tops["./cmd/soc"], []string{"SearchVisibility"}) {
		t.Errorf("top-level benchmarks %q", tops)
	}
	for _, row := range [][2]string{{"BulkIndex/elasticsearch", "RawBulk/elasticsearch"}, {"BulkIndex/opensearch", "RawBulk/opensearch"}, {"Index/index", "Index/raw"}} {
		if k, _, _ := only(pairs, "^"+row[0]+"$"); len(k) != 1 || k[0].baseline != row[1] || k[0].metric != "docs/s" {
			t.Errorf("%s: rows %+v, want docs/s beside %s", row[0], k, row[1])
		}
	}
}
