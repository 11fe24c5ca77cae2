package fts

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readkit"
	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/searchtest"
)

// fill writes docs in batches of n as the projector does, the batch's last index its position.
func fill(b *testing.B, ix *Index, docs []search.Doc, n int) {
	for i := 0; i < len(docs); i += n {
		j := min(i+n, len(docs))
		if err := ix.Write(context.Background(), docs[i:j], int64(j)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIndex measures indexing throughput, batches of 1,000 new findings (the generated
// ones the servers' benchmarks index too): through Write ("index"), and beside it the baseline
// of the same batches written raw ("raw": each document's JSON under its id and its title and
// text in a bare FTS5 table, one transaction a batch), the least any SQLite full-text index of
// them costs.
func BenchmarkIndex(b *testing.B) {
	const n = 1000
	// batch i is the generated documents under ids of their own, so that each batch is new.
	batch := func(docs []search.Doc, i int) []search.Doc {
		for j := range docs {
			docs[j].ID = fmt.Sprintf("bench-%d-%d", i, j)
		}
		return docs
	}
	b.Run("index", func(b *testing.B) {
		ix := open(b)
		docs := searchtest.BenchFindings("bench", n)
		i := 0
		for b.Loop() {
			fill(b, ix, batch(docs, i), n)
			i++
		}
		b.ReportMetric(float64(i*n)/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("raw", func(b *testing.B) {
		ctx := context.Background()
		ix := open(b)
		if _, err := ix.db.ExecContext(ctx, `CREATE TABLE raw (id TEXT PRIMARY KEY, doc BLOB);
			CREATE VIRTUAL TABLE raw_fts USING fts5(title, text)`); err != nil {
			b.Fatal(err)
		}
		cache := &readkit.SQLCache{}
		docs := searchtest.BenchFindings("bench", n)
		i := 0
		for b.Loop() {
			var rows, texts [][]any
			for _, d := range batch(docs, i) {
				body, _ := json.Marshal(d)
				rows = append(rows, []any{d.ID, body})
				texts = append(texts, []any{d.Title, d.Text})
			}
			err := ix.write(ctx, func(sqlTx *sql.Tx) error {
				tx := &projections.Tx{Tx: sqlTx, Dialect: projections.SQLite}
				if err := readkit.WriteRows(ctx, tx, cache, "raw", []string{"id", "doc"}, "", rows); err != nil {
					return err
				}
				return readkit.WriteRows(ctx, tx, cache, "raw_fts", []string{"title", "text"}, "", texts)
			})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(i*n)/b.Elapsed().Seconds(), "docs/s")
	})
}

// BenchmarkFacetedSearch measures searchtest.FacetedRequest over searchtest.FacetedDocs findings
// (the figure; the same documents and query as the servers' benchmark).
func BenchmarkFacetedSearch(b *testing.B) {
	ix := open(b)
	docs := searchtest.BenchFindings("faceted", searchtest.FacetedDocs)
	start := time.Now()
	fill(b, ix, docs, 5000)
	b.Logf("indexed %d findings in %v (%.0f docs/s)", len(docs), time.Since(start).Round(time.Millisecond), float64(len(docs))/time.Since(start).Seconds())
	searchtest.BenchSearch(b, ix, searchtest.FacetedRequest())
}
