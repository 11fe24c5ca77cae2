package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

// eachServerB is eachServer for benchmarks.
func eachServerB(b *testing.B, f func(b *testing.B, cfg Config)) {
	for _, s := range servers {
		b.Run(s.name, func(b *testing.B) {
			u := os.Getenv(s.env)
			if u == "" {
				b.Skipf("%s is unset: no %s to benchmark", s.env, s.name)
			}
			f(b, Config{URL: u, Flavor: s.flavor})
		})
	}
}

// findings generates n finding documents spread over assets, teams, severities and scanners,
// deterministically (the same n gives the same documents), ids prefixed.
func findings(prefix string, n int) []search.Doc {
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
			State: json.RawMessage(`{"asset_version":1}`),
		}
	}
	return docs
}

const bulkBatch = 5000

// BenchmarkBulkIndex measures documents indexed per second through Write (versioned items, the
// position, a refresh), in batches of bulkBatch; compare with BenchmarkRawBulk.
func BenchmarkBulkIndex(b *testing.B) {
	benchBulk(b, func(ctx context.Context, ix *Index, docs []search.Doc, i int) error {
		return ix.Write(ctx, docs, int64(i+1))
	})
}

// BenchmarkRawBulk is the baseline: the same documents' JSON sent as plain _bulk index actions
// (no versions, no position, no refresh) with the same client.
func BenchmarkRawBulk(b *testing.B) {
	benchBulk(b, func(ctx context.Context, ix *Index, docs []search.Doc, _ int) error {
		var body bytes.Buffer
		for _, d := range docs {
			fmt.Fprintf(&body, `{"index":{"_id":%q}}`+"\n", d.ID)
			src, _ := json.Marshal(d)
			body.Write(src)
			body.WriteByte('\n')
		}
		var ans bulkAnswer
		if err := ix.do(ctx, http.MethodPost, "/"+ix.target+"/_bulk", nil, body.Bytes(), &ans); err != nil || ans.Errors {
			return fmt.Errorf("raw bulk: %v (item errors: %v)", err, ans.Errors)
		}
		return nil
	})
}

// benchBulk sends batch i of bulkBatch new findings with send, on each server, and reports docs/s.
func benchBulk(b *testing.B, send func(ctx context.Context, ix *Index, docs []search.Doc, i int) error) {
	eachServerB(b, func(b *testing.B, cfg Config) {
		ix := openTest(b, cfg)
		docs := findings("bulk", bulkBatch)
		ctx := context.Background()
		batch := func(i int) {
			for j := range docs {
				docs[j].ID = fmt.Sprintf("bulk-%d-%d", i, j)
			}
			if err := send(ctx, ix, docs, i); err != nil {
				b.Fatal(err)
			}
		}
		// One batch before the clock starts: the first into a new index (and the server's
		// first of the kind) is slower, and would count against whichever benchmark runs first.
		batch(0)
		for i := 1; b.Loop(); i++ {
			batch(i)
		}
		b.ReportMetric(float64(b.N*bulkBatch)/b.Elapsed().Seconds(), "docs/s")
	})
}

// facetedCorpus is the 100,000 findings' index per server, loaded once per benchmark process
// (the benchmark function runs again for each b.N) and dropped by TestMain.
var facetedCorpus = struct {
	sync.Mutex
	byURL map[string]*Index
}{byURL: map[string]*Index{}}

const facetedDocs = 100_000

func loadFaceted(b *testing.B, cfg Config) *Index {
	facetedCorpus.Lock()
	defer facetedCorpus.Unlock()
	if ix := facetedCorpus.byURL[cfg.URL]; ix != nil {
		return ix
	}
	cfg.Index = "soctest-faceted-" + uniqueAlias(b)[len("soctest-"):]
	ctx := context.Background()
	ix, err := Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	docs := findings("faceted", facetedDocs)
	for i := 0; i < len(docs); i += 5000 {
		if err := ix.Write(ctx, docs[i:min(i+5000, len(docs))], int64(i+1)); err != nil {
			dropIndex(ix)
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d findings in %s", facetedDocs, time.Since(start).Round(time.Millisecond))
	facetedCorpus.byURL[cfg.URL] = ix
	return ix
}

func dropIndex(ix *Index) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	gens, _ := ix.generations(ctx)
	for _, n := range gens {
		_ = ix.deleteIndex(ctx, generationName(ix.alias, n))
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, ix := range facetedCorpus.byURL {
		dropIndex(ix)
	}
	os.Exit(code)
}

// BenchmarkFacetedSearch measures a faceted query over 100,000 findings: free text, a field
// operator and a negation, the six facets the search box shows, the first page of 20.
func BenchmarkFacetedSearch(b *testing.B) {
	eachServerB(b, func(b *testing.B, cfg Config) {
		ix := loadFaceted(b, cfg)
		req := search.Request{
			Query: query.Query{Clauses: []query.Clause{
				{Values: []string{"overflow"}},
				{Field: query.FieldSeverity, Values: []string{"critical", "high"}},
				{Field: query.FieldStatus, Values: []string{"closed"}, Negate: true},
			}},
			Facets:    []string{"severity", "status", "asset_kind", "scanner", "team", "environment"},
			Highlight: true,
		}
		ctx := context.Background()
		var lat []time.Duration
		for b.Loop() {
			start := time.Now()
			res, err := ix.Search(ctx, req)
			lat = append(lat, time.Since(start))
			if err != nil || res.Total == 0 {
				b.Fatalf("search: %v (total %d)", err, res.Total)
			}
		}
		slices.Sort(lat)
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	})
}
