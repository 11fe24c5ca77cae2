package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/schemas/contracts"
)

// searchBenchFindings is the size of the command → searchable benchmark's node: the figure is
// the projection's delay, not a search over a large index (BenchmarkFacetedSearch's, in the
// backends' packages).
const searchBenchFindings = 1000

// BenchmarkSearchVisibility (issue 17: aim p99 ≤ 2 s on Elasticsearch): from sending a finding
// command that changes its status to GET /v1/search finding it by the new status (p50-ms,
// p99-ms), beside one more GET of the same search once it does (get-p50-ms, get-p99-ms), on a
// node of its own with the embedded default (FTS5) and, when their servers are given, with
// --elasticsearch-url and --opensearch-url.
func BenchmarkSearchVisibility(b *testing.B) {
	b.Run("fts5", func(b *testing.B) { searchVisibility(b, nil) })
	for _, s := range []struct{ name, env string }{{"elasticsearch", "SOC_TEST_ELASTICSEARCH_URL"}, {"opensearch", "SOC_TEST_OPENSEARCH_URL"}} {
		b.Run(s.name, func(b *testing.B) {
			u := os.Getenv(s.env)
			if u == "" {
				b.Skipf("%s is unset: no %s to benchmark", s.env, s.name)
			}
			index := searchTestIndex(b, u)
			searchVisibility(b, func(c *Config) {
				if s.name == "elasticsearch" {
					c.Search.ElasticsearchURL = u
				} else {
					c.Search.OpenSearchURL = u
				}
				c.Search.Index = index
			})
		})
	}
}

// searchSteps are finding commands, each with the status it leaves: they cycle, each allowed from
// the status the one before left (open or reopened → triaged → false positive → reopened).
var searchSteps = []struct {
	verb, body string
	status     contracts.FindingStatus
}{
	{"triage", `{}`, contracts.FindingStatusTriaged},
	{"false-positive", `{"justification":"benchmark"}`, contracts.FindingStatusFalsePositive},
	{"reopen", `{"reason":"benchmark"}`, contracts.FindingStatusReopened},
}

func searchVisibility(b *testing.B, configure func(*Config)) {
	s, _, _, err := startBenchNode(b, "soc-searchbench", searchBenchFindings, configure)
	if err != nil {
		b.Fatal(err)
	}
	defer s.stop()
	client := &http.Client{Transport: bearerTransport{base: &http.Transport{MaxIdleConnsPerHost: 8}}}
	find := func(q string, limit int) (searchAnswer, error) {
		var a searchAnswer
		resp, err := client.Get(s.base + "/v1/search?" + url.Values{"q": {q}, "types": {"finding"}, "limit": {fmt.Sprint(limit)}}.Encode())
		if err != nil {
			return a, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			return a, fmt.Errorf("GET /v1/search?q=%s: %d %s", q, resp.StatusCode, body)
		}
		return a, json.NewDecoder(resp.Body).Decode(&a)
	}
	// The search index keeps its own position: wait until it holds the whole import.
	var open searchAnswer
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		open, err = find("status:open", 100)
		if err == nil && open.Total == searchBenchFindings {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the search index holds %d of %d open findings: %v", open.Total, searchBenchFindings, err)
		}
	}
	hits := open.Hits
	const samples = 300
	var vis, floor []time.Duration
	seq := 0
	for b.Loop() {
		for range samples {
			h := hits[seq%len(hits)]
			step := searchSteps[(seq/len(hits))%len(searchSteps)]
			seq++
			if len(h.CVEs) != 1 {
				b.Fatalf("finding %s has CVEs %v, want one (the search picks it by it)", h.ID, h.CVEs)
			}
			q := "cve:" + h.CVEs[0] + " status:" + string(step.status)
			t0 := time.Now()
			resp, err := client.Post(s.base+"/v1/findings/"+h.ID+"/"+step.verb, "application/json", strings.NewReader(step.body))
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("%s %s: %d %s", step.verb, h.ID, resp.StatusCode, body)
			}
			for {
				a, err := find(q, 1)
				if err != nil {
					b.Fatal(err)
				}
				if a.Total == 1 && a.Hits[0].ID == h.ID {
					break
				}
				if time.Since(t0) > time.Minute {
					b.Fatalf("%s of %s never became searchable (%s)", step.verb, h.ID, q)
				}
				time.Sleep(time.Millisecond)
			}
			vis = append(vis, time.Since(t0))
			t1 := time.Now()
			if _, err := find(q, 1); err != nil {
				b.Fatal(err)
			}
			floor = append(floor, time.Since(t1))
		}
	}
	reportLatenciesAs(b, "get-", floor, 0, "")
	reportLatencies(b, vis, 0, "")
}
