package searchtest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// The backends' benchmarks (make bench) index and search the same generated findings with the
// same faceted query, so that their figures compare: Elasticsearch and OpenSearch beside the
// embedded default, each indexing beside its raw baseline.

// BenchFindings generates n finding documents spread over assets, teams, severities and
// scanners, deterministically (the same n gives the same documents), ids prefixed.
func BenchFindings(prefix string, n int) []search.Doc {
	rng := rand.New(rand.NewPCG(17, uint64(n)))
	sev := []string{"critical", "high", "medium", "low", "info"}
	status := []string{"open", "open", "open", "triaged", "closed", "risk_accepted"}
	scanners := []string{"trivy", "grype", "nessus", "qualys", "zap", "sarif"}
	teams := []string{"platform", "data", "payments", "identity", "web", "mobile", "infra", "security"}
	envs := []string{"production", "staging", "development"}
	kinds := []string{"host", "container_image", "repository", "cloud_account"}
	pkgs := []string{"log4j-core", "openssl", "libxml2", "jackson-databind", "lodash", "spring-web", "glibc", "zlib"}
	words := []string{"remote", "code", "execution", "buffer", "overflow", "injection", "deserialization", "cross", "site",
		"scripting", "denial", "service", "privilege", "escalation", "memory", "corruption", "path", "traversal"}
	docs := make([]search.Doc, n)
	for i := range docs {
		asset := rng.IntN(n/20 + 1)
		pkg := pkgs[rng.IntN(len(pkgs))]
		title := fmt.Sprintf("%s %s %s in %s", words[rng.IntN(len(words))], words[rng.IntN(len(words))], words[rng.IntN(len(words))], pkg)
		cvss := float64(rng.IntN(100)) / 10
		epss := rng.Float64()
		docs[i] = search.Doc{
			ID: fmt.Sprintf("%s-finding-%07d", prefix, i), Kind: search.KindFinding, Version: 1 + int64(rng.IntN(5)),
			Title: title, Text: title + ": upgrade " + pkg + " to the fixed version; see the advisory for details.",
			At:       time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
			Severity: sev[rng.IntN(len(sev))], Status: status[rng.IntN(len(status))],
			CVEs: []string{fmt.Sprintf("CVE-20%02d-%05d", 15+rng.IntN(10), rng.IntN(50000))}, CWEs: []string{fmt.Sprintf("CWE-%d", 20+rng.IntN(900))},
			Packages: []string{pkg}, KEV: rng.IntN(20) == 0, CVSS: &cvss, EPSS: &epss, Scanner: scanners[rng.IntN(len(scanners))],
			AssetID: fmt.Sprintf("%s-asset-%06d", prefix, asset), AssetName: fmt.Sprintf("host-%d", asset),
			Hostnames: []string{fmt.Sprintf("host-%d.%s.example.com", asset, envs[asset%len(envs)])},
			IPs:       []string{fmt.Sprintf("10.%d.%d.%d", asset>>16&255, asset>>8&255, asset&255)},
			Team:      teams[asset%len(teams)], Environment: envs[asset%len(envs)], AssetKind: kinds[asset%len(kinds)],
			Tags:  []string{"pci", fmt.Sprintf("rack-%d", asset%20)},
			State: json.RawMessage(`{"asset_version":1}`),
		}
	}
	return docs
}

// FacetedDocs is the size of the faceted search benchmarks' corpus (the figure).
const FacetedDocs = 100_000

// FacetedRequest is the faceted search the benchmarks time over BenchFindings(_, FacetedDocs):
// free text, a field operator with two values and a negation, the six facets the search box
// shows, highlighting, the first page of 20 by relevance.
func FacetedRequest() search.Request {
	return search.Request{
		Query: query.Query{Clauses: []query.Clause{
			{Values: []string{"overflow"}},
			{Field: query.FieldSeverity, Values: []string{"critical", "high"}},
			{Field: query.FieldStatus, Values: []string{"closed"}, Negate: true},
		}},
		Facets:    []string{"severity", "status", "asset_kind", "scanner", "team", "environment"},
		Limit:     20,
		Highlight: true,
	}
}

// BenchSearch times r on ix for each iteration of b and reports the median and the 99th
// percentile as p50-ms and p99-ms (the metrics make bench prints), the number of samples, and
// the total of matches (the same on every backend, for the same documents and request).
func BenchSearch(b *testing.B, ix search.Index, r search.Request) {
	ctx := context.Background()
	var lat []time.Duration
	var total int64
	for b.Loop() {
		start := time.Now()
		res, err := ix.Search(ctx, r)
		lat = append(lat, time.Since(start))
		if err != nil || res.Total == 0 {
			b.Fatalf("search: %v (total %d)", err, res.Total)
		}
		total = res.Total
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(lat)), "samples")
	b.ReportMetric(float64(total), "matches")
}
