package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/searchtest"
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
		docs := searchtest.BenchFindings("bulk", bulkBatch)
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
	docs := searchtest.BenchFindings("faceted", searchtest.FacetedDocs)
	for i := 0; i < len(docs); i += 5000 {
		if err := ix.Write(ctx, docs[i:min(i+5000, len(docs))], int64(i+1)); err != nil {
			dropIndex(ix)
			b.Fatal(err)
		}
	}
	b.Logf("loaded %d findings in %s", searchtest.FacetedDocs, time.Since(start).Round(time.Millisecond))
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

// BenchmarkFacetedSearch measures searchtest.FacetedRequest over searchtest.FacetedDocs
// findings on each server (the same documents and query as the embedded default's benchmark).
func BenchmarkFacetedSearch(b *testing.B) {
	eachServerB(b, func(b *testing.B, cfg Config) {
		ix := loadFaceted(b, cfg)
		searchtest.BenchSearch(b, ix, searchtest.FacetedRequest())
	})
}
