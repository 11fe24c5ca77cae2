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
	"github.com/socplatform/soc/projections/search/query"
)

// benchFinding is the i-th of a generated set of findings: a few hundred assets across teams
// and environments, CVEs and packages drawn from small pools so that facets and phrases repeat.
func benchFinding(i int) search.Doc {
	sev := []string{"critical", "high", "medium", "low", "info"}
	status := []string{"open", "open", "open", "fixed", "accepted"}
	scanners := []string{"trivy", "grype", "nessus", "qualys"}
	teams := []string{"platform", "payments", "data", "identity", "web"}
	envs := []string{"production", "staging", "development"}
	kinds := []string{"host", "container_image", "repository"}
	pkgs := []string{"log4j-core", "openssl", "libxml2", "zlib", "spring-web", "jackson-databind", "glibc", "curl"}
	asset := i % 500
	cvss := float64(i%100) / 10
	epss := float64(i%1000) / 1000
	pkg := pkgs[i%len(pkgs)]
	return search.Doc{
		ID: fmt.Sprintf("vulns-finding-%08d", i), Kind: search.KindFinding, Version: 1,
		Title:    fmt.Sprintf("%s: vulnerable %s in asset %d", fmt.Sprintf("CVE-2024-%05d", i%3000), pkg, asset),
		Text:     fmt.Sprintf("The package %s before version %d.%d allows remote attackers to cause a denial of service. Upgrade %s.", pkg, i%7, i%13, pkg),
		At:       time.Unix(1_760_000_000+int64(i), 0).UTC(),
		Severity: sev[i%len(sev)], Status: status[i%len(status)], CVEs: []string{fmt.Sprintf("CVE-2024-%05d", i%3000)},
		CWEs: []string{fmt.Sprintf("CWE-%d", 20+i%50)}, Packages: []string{pkg}, KEV: i%17 == 0, CVSS: &cvss, EPSS: &epss,
		Scanner: scanners[i%len(scanners)], AssetID: fmt.Sprintf("assets-asset-%05d", asset),
		AssetName: fmt.Sprintf("web-%d", asset), Hostnames: []string{fmt.Sprintf("web-%d.example.com", asset)},
		IPs: []string{fmt.Sprintf("10.%d.%d.%d", asset/250, asset%250, 1+i%3)}, Team: teams[asset%len(teams)],
		Environment: envs[asset%len(envs)], AssetKind: kinds[asset%len(kinds)], Tags: []string{"pci", fmt.Sprintf("rack-%d", asset%20)},
	}
}

// fill writes n generated findings in batches as the projector does.
func fill(b *testing.B, ix *Index, from, n int) {
	const batch = 1000
	docs := make([]search.Doc, 0, batch)
	for i := from; i < from+n; i++ {
		docs = append(docs, benchFinding(i))
		if len(docs) == batch || i == from+n-1 {
			if err := ix.Write(context.Background(), docs, int64(i)); err != nil {
				b.Fatal(err)
			}
			docs = docs[:0]
		}
	}
}

// BenchmarkIndex measures indexing throughput, batches of 1,000 new findings: through Write
// ("index"), and beside it the baseline of the same batches written raw ("raw": each document's
// JSON under its id and its title and text in a bare FTS5 table, one transaction a batch), the
// least any SQLite full-text index of them costs.
func BenchmarkIndex(b *testing.B) {
	const n = 1000
	b.Run("index", func(b *testing.B) {
		ix := open(b)
		i := 0
		start := time.Now()
		for b.Loop() {
			fill(b, ix, i*n, n)
			i++
		}
		b.ReportMetric(float64(i*n)/time.Since(start).Seconds(), "docs/s")
	})
	b.Run("raw", func(b *testing.B) {
		ctx := context.Background()
		ix := open(b)
		if _, err := ix.db.ExecContext(ctx, `CREATE TABLE raw (id TEXT PRIMARY KEY, doc BLOB);
			CREATE VIRTUAL TABLE raw_fts USING fts5(title, text)`); err != nil {
			b.Fatal(err)
		}
		cache := &readkit.SQLCache{}
		i := 0
		start := time.Now()
		for b.Loop() {
			var docs, texts [][]any
			for k := i * n; k < (i+1)*n; k++ {
				d := benchFinding(k)
				body, _ := json.Marshal(d)
				docs = append(docs, []any{d.ID, body})
				texts = append(texts, []any{d.Title, d.Text})
			}
			err := ix.write(ctx, func(sqlTx *sql.Tx) error {
				tx := &projections.Tx{Tx: sqlTx, Dialect: projections.SQLite}
				if err := readkit.WriteRows(ctx, tx, cache, "raw", []string{"id", "doc"}, "", docs); err != nil {
					return err
				}
				return readkit.WriteRows(ctx, tx, cache, "raw_fts", []string{"title", "text"}, "", texts)
			})
			if err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(i*n)/time.Since(start).Seconds(), "docs/s")
	})
}

// BenchmarkFacetedSearch measures a faceted free-text query with filters over 100,000 findings
// (the figure): six facets, a phrase, a field operator, the first page sorted by relevance.
func BenchmarkFacetedSearch(b *testing.B) {
	ix := open(b)
	const n = 100_000
	start := time.Now()
	fill(b, ix, 0, n)
	b.Logf("indexed %d findings in %v (%.0f docs/s)", n, time.Since(start).Round(time.Millisecond), n/time.Since(start).Seconds())
	for _, c := range []struct {
		name string
		q    query.Query
	}{
		{"phrase+field", query.Query{Clauses: []query.Clause{{Values: []string{"log4j-core"}},
			{Field: query.FieldEnvironment, Values: []string{"production"}}}}},
		{"fields only", query.Query{Clauses: []query.Clause{{Field: query.FieldStatus, Values: []string{"open"}},
			{Field: query.FieldSeverity, Values: []string{"critical", "high"}}}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := search.Request{Query: c.q, Facets: []string{"severity", "status", "asset_kind", "scanner", "team", "environment"},
				Limit: 20, Highlight: true}
			var total int64
			for b.Loop() {
				res, err := ix.Search(context.Background(), r)
				if err != nil {
					b.Fatal(err)
				}
				total = res.Total
			}
			b.ReportMetric(float64(total), "matches")
		})
	}
}
