// Command benchreport runs the platform's Go benchmarks and prints each figure beside the raw
// baseline measured in the same run, with the ratio (`make bench`). Benchmarks are never timed
// tests: this program only reports, it does not pass or fail on a number.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pair is one line of the report: a measured benchmark and its baseline.
type pair struct {
	what      string
	pkg       string // package path relative to the repository root
	bench     string
	baseline  string
	metric    string // the figure compared; higher is better
	latencies bool   // also print p50/p99
	// baselineMetric, when set, reads the baseline from the same benchmark (one that measures
	// both in each iteration, alternating, so load affects both alike) instead of from baseline.
	baselineMetric string
	// latencyKeys, when set, names the p50/p99 metrics printed for the platform and the baseline
	// (both from the measured benchmark) instead of p50-ms/p99-ms of each.
	latencyKeys [4]string
	// basePkg, when set, is the baseline's package (relative to the repository root), when it is
	// not pkg: the same benchmark on another backend.
	basePkg string
}

// basePackage is the package the baseline of p is measured in.
func (p pair) basePackage() string {
	if p.basePkg != "" {
		return p.basePkg
	}
	return p.pkg
}

var pairs = []pair{
	{"SQLite: 1 writer, single-event appends", "./events/adapters/sqlite", "AppendSingle", "RawInsertSingle", "events/s", true, "", [4]string{}, ""},
	{"SQLite: 8 writers, batches of 100", "./events/adapters/sqlite", "AppendBatch8x100", "RawInsertBatch8x100", "events/s", false, "", [4]string{}, ""},
	{"PostgreSQL: 1 writer, single-event appends", "./events/adapters/postgres", "AppendSingle", "RawInsertSingle", "events/s", true, "", [4]string{}, ""},
	{"PostgreSQL: 8 writers, batches of 100", "./events/adapters/postgres", "AppendBatch8x100", "RawCopyBatch8x100", "events/s", false, "", [4]string{}, ""},
	{"Kafka: relay from SQLite vs raw franz-go produce", "./events/kafkalog", "Relay/default", "", "events/s", false, "raw-events/s", [4]string{}, ""},
	{"Kafka: relay from PostgreSQL vs raw franz-go produce", "./events/kafkalog", "Relay/postgres", "", "events/s", false, "raw-events/s", [4]string{}, ""},
	{"Import, largest Trivy report, vs parsing alone", "./commands/scans/app", "ImportTrivyLargest/import", "ImportTrivyLargest/parse", "findings/s", false, "", [4]string{}, ""},
	{"Re-import, largest Trivy report, vs parsing alone", "./commands/scans/app", "ImportTrivyLargest/reimport", "ImportTrivyLargest/parse", "findings/s", false, "", [4]string{}, ""},
	{"Import, largest Nessus report, vs parsing alone", "./commands/scans/app", "ImportNessusLargest/import", "ImportNessusLargest/parse", "findings/s", false, "", [4]string{}, ""},
	{"Import, largest ZAP report, vs parsing alone", "./commands/scans/app", "ImportZAPLargest/import", "ImportZAPLargest/parse", "findings/s", false, "", [4]string{}, ""},
	{"Import, largest SAST report (Veracode XML), vs parsing alone", "./commands/scans/app", "ImportSASTLargest/import", "ImportSASTLargest/parse", "findings/s", false, "", [4]string{}, ""},
	{"Import, largest dependency report (Snyk JSON), vs parsing alone", "./commands/scans/app", "ImportDependenciesLargest/import", "ImportDependenciesLargest/parse", "findings/s", false, "", [4]string{}, ""},
	{"Import, largest DAST report (Burp XML), vs parsing alone", "./commands/scans/app", "ImportDASTLargest/import", "ImportDASTLargest/parse", "findings/s", false, "", [4]string{}, ""},
	{"Import, generated Trivy report, vs parsing alone", "./commands/scans/app", "ImportTrivyGenerated/findings=N/import", "ImportTrivyGenerated/findings=N/parse", "findings/s", false, "", [4]string{}, ""},
	{"Re-import, generated Trivy report, vs parsing alone", "./commands/scans/app", "ImportTrivyGenerated/findings=N/reimport", "ImportTrivyGenerated/findings=N/parse", "findings/s", false, "", [4]string{}, ""},
	{"Import, generated Trivy report, vs one raw append per finding", "./commands/scans/app", "ImportTrivyGenerated/findings=N/import", "ImportTrivyGenerated/findings=N/baseline-raw-append", "findings/s", false, "", [4]string{}, ""},
	{"Projection: findings on SQLite, vs batched INSERT of the same rows", "./projections/vulns", "FindingsProjection/sqlite", "FindingsBaselineInsert/sqlite", "events/s", false, "", [4]string{}, ""},
	{"Projection: findings on PostgreSQL, vs batched INSERT of the same rows", "./projections/vulns", "FindingsProjection/postgres", "FindingsBaselineInsert/postgres", "events/s", false, "", [4]string{}, ""},
	{"Query API: GET /v1/findings filtered, 50/page, N findings, vs the same query on the read model", "./cmd/soc", "QueryFindings/api", "QueryFindings/baseline-sql", "requests/s", true, "", [4]string{}, ""},
	{"Query API, uncached (every request runs the query), vs the same query on the read model", "./cmd/soc", "QueryFindings/api-uncached", "QueryFindings/baseline-sql", "requests/s", true, "", [4]string{}, ""},
	{"Visibility: command response → visible in a query (p99 ms), vs a plain GET", "./cmd/soc", "Visibility", "", "p99-ms", true, "get-p99-ms", visibilityLatencies, ""},
	// The saga flow: one import of SOC_BENCH_SAGA_FINDINGS findings (default 10,000; the "N" is
	// not substituted) drained by the node's sagas, their commands dispatched to the planner.
	{"Sagas: scan → finding → notify, 10k-finding import, vs decoding the events", "./cmd/soc", "SagaFlow/flow", "SagaFlow/baseline", "events/s", false, "", [4]string{}, ""},
	// Restart of a node (commands target) over a store of N findings, exec to /readyz 200 and
	// peak RSS: its lookups restored from snapshots, beside the full replay of $all every start
	// did before them (--snapshot-dir off). Lower is better here: the ratio is after/before.
	{"Restart to ready, N findings: lookups from snapshots vs full replay", "./cmd/soc", "Restart", "", "ready-ms", false, "replay-ready-ms", [4]string{}, ""},
	{"Restart peak RSS, N findings: lookups from snapshots vs full replay", "./cmd/soc", "Restart", "", "peak-rss-MB", false, "replay-peak-rss-MB", [4]string{}, ""},
	// A finding command (comment) on streams of 10 / 1,000 / 10,000 events, one client: with
	// aggregate snapshots (default) vs replaying the whole stream (snapshots off, the baseline),
	// and a long stream vs a fresh one, both with snapshots. SOC_BENCH_COMMANDS per case.
	{"Command on a 10-event finding: snapshots vs full replay", "./cmd/soc", "CommandLatency/events=10/snapshots", "CommandLatency/events=10/replay", "commands/s", true, "", [4]string{}, ""},
	{"Command on a 1,000-event finding: snapshots vs full replay", "./cmd/soc", "CommandLatency/events=1000/snapshots", "CommandLatency/events=1000/replay", "commands/s", true, "", [4]string{}, ""},
	{"Command on a 10,000-event finding: snapshots vs full replay", "./cmd/soc", "CommandLatency/events=10000/snapshots", "CommandLatency/events=10000/replay", "commands/s", true, "", [4]string{}, ""},
	{"Command on a 10,000-event finding vs a 10-event one (snapshots)", "./cmd/soc", "CommandLatency/events=10000/snapshots", "CommandLatency/events=10/snapshots", "commands/s", true, "", [4]string{}, ""},
	// Peak RSS of a child process importing a generated report of SOC_BENCH_REPORT_MB (default
	// 250) through the scans importer on SQLite, beside the report's size and beside the peak RSS
	// of encoding/json unmarshalling it whole (what the JSON parsers did before streaming). Lower
	// is better: the ratio is import/baseline.
	{"Import peak RSS, R MB Grype report, one huge unknown field, vs its size", "./cmd/soc", "ImportRSS/grype-huge-field", "", "peak-rss-MB", false, "report-MB", [4]string{}, ""},
	{"Import peak RSS, R MB Grype report, one huge unknown field, vs json.Unmarshal", "./cmd/soc", "ImportRSS/grype-huge-field", "", "peak-rss-MB", false, "unmarshal-peak-rss-MB", [4]string{}, ""},
	{"Import peak RSS, R MB Trivy report, many vulnerabilities, vs its size", "./cmd/soc", "ImportRSS/trivy-many-vulns", "", "peak-rss-MB", false, "report-MB", [4]string{}, ""},
	{"Import peak RSS, R MB Trivy report, many vulnerabilities, vs json.Unmarshal", "./cmd/soc", "ImportRSS/trivy-many-vulns", "", "peak-rss-MB", false, "unmarshal-peak-rss-MB", [4]string{}, ""},
	{"Notifications: email via the notifier (recorded, STARTTLS+AUTH), vs the bare go-smtp client", "./commands/notifications/app", "Notify/smtp", "Notify/smtp-bare", "msgs/s", false, "", [4]string{}, ""},
	{"Notifications: signed webhook via the notifier (recorded), vs a bare HTTP POST", "./commands/notifications/app", "Notify/webhook", "Notify/webhook-bare", "msgs/s", false, "", [4]string{}, ""},
	// Identity: access tokens (go-jose, EdDSA) beside bare Ed25519 over a same-size message, and
	// a login's password check (argon2id, default parameters) beside bare argon2.IDKey.
	{"Access token: Verify vs bare ed25519.Verify", "./commands/identity/tokens", "Verify", "BareEd25519Verify", "verifies/s", false, "", [4]string{}, ""},
	{"Access token: Issue vs bare ed25519.Sign", "./commands/identity/tokens", "Issue", "BareEd25519Sign", "tokens/s", false, "", [4]string{}, ""},
	{"Password check, argon2id t=3 m=64 MiB p=4, vs bare argon2.IDKey", "./commands/identity/tokens", "PasswordHash", "BareArgon2id", "logins/s", false, "", [4]string{}, ""},
	// The query API (GET /v1/findings?limit=50 and /v1/findings/{id}, alternately) through the
	// whole auth chain with an access token (JWT, session and user, permission; team scoping for
	// the remediator) beside the same router without the auth middleware, each client
	// alternating the two (off-requests/s is the baseline measured in the same benchmark).
	{"Query API, analyst's token vs no auth middleware, N findings", "./cmd/soc", "QueryAuth/analyst", "", "requests/s", true, "off-requests/s", queryAuthLatencies, ""},
	{"Query API, analyst's token vs no auth middleware, uncached", "./cmd/soc", "QueryAuth/analyst-uncached", "", "requests/s", true, "off-requests/s", queryAuthLatencies, ""},
	{"Query API, remediator's token (team-scoped) vs no auth middleware", "./cmd/soc", "QueryAuth/remediator", "", "requests/s", true, "off-requests/s", queryAuthLatencies, ""},
	{"Query API, remediator's token (team-scoped) vs no auth, uncached", "./cmd/soc", "QueryAuth/remediator-uncached", "", "requests/s", true, "off-requests/s", queryAuthLatencies, ""},
	// The gateway (issue 14: aim ≥ 70% of direct): the triage read with one access token through
	// a --target=gateway node in front of a query node, with and without the gateway's response
	// cache, each client alternating it with the same request sent to the query node directly
	// (direct-requests/s is the baseline measured in the same benchmark). Rate limiting off.
	{"Gateway: GET /v1/findings (triage) through the gateway vs directly to the query node", "./cmd/soc", "Gateway/cache", "", "requests/s", true, "direct-requests/s", gatewayLatencies, ""},
	{"Gateway without its response cache (every request proxied) vs directly", "./cmd/soc", "Gateway/no-cache", "", "requests/s", true, "direct-requests/s", gatewayLatencies, ""},
	// The rate limiter, one client checking one request at a time: GCRA on Redis (one EVALSHA)
	// beside the bare round trips it costs at least, INCR and PING; in memory beside Redis.
	{"Rate limiter: Allow on Redis (sliding-window log script) vs a bare Redis INCR", "./cmd/soc/internal/ratelimit", "Allow/redis", "Allow/redis-incr", "checks/s", false, "", [4]string{}, ""},
	{"Rate limiter: Allow on Redis (sliding-window log script) vs a bare Redis PING", "./cmd/soc/internal/ratelimit", "Allow/redis", "Allow/redis-ping", "checks/s", false, "", [4]string{}, ""},
	{"Rate limiter: Allow in memory vs on Redis", "./cmd/soc/internal/ratelimit", "Allow/memory", "Allow/redis", "checks/s", false, "", [4]string{}, ""},
}

// The analytics queries (issue 16: p99 ≤ 200 ms on ClickHouse) over the same generated model of
// SOC_BENCH_ANALYTICS_FACTS facts (default 1,000,000; analyticstest.MillionRows), each for every
// team and for one team: ClickHouse beside the embedded default (SQLite) answering the same
// query. Lower is better here: the ratio is ClickHouse/SQLite p99.
var analyticsQueries = []string{"open-findings", "flow", "mttr", "sla", "risk", "top-assets", "exploitability", "coverage"}

func init() {
	pairs = append(pairs, pair{what: "Projection: analytics on ClickHouse, vs raw clickhouse-go batch INSERTs of the same rows",
		pkg: "./projections/analytics/clickhouse", bench: "Projection/projector", baseline: "Projection/raw", metric: "rows/s"})
	for _, scope := range []string{"all", "team"} {
		for _, q := range analyticsQueries {
			pairs = append(pairs, pair{what: "Analytics, F facts, " + q + " (" + scope + "), p99: ClickHouse vs SQLite",
				pkg: "./projections/analytics/clickhouse", bench: "Queries/" + q + "/" + scope,
				basePkg: "./projections/analytics/sqlstore", baseline: "MillionQueries/" + q + "/" + scope,
				metric: "p99-ms", latencies: true})
		}
	}
	// Search (issue 17): indexing through the projection's Write (versioned items, the position,
	// a refresh) beside a raw _bulk of the same documents (aim ≥ 60%), and FTS5's Write beside a
	// raw FTS5 insert of them; a faceted query over 100,000 findings on each server beside the
	// same documents and query on FTS5 (lower is better: the ratio is server/FTS5 p99); a finding
	// command → searchable on each backend beside a plain GET of the same search (aim p99 ≤ 2 s
	// on Elasticsearch).
	pairs = append(pairs,
		pair{what: "Search: indexing on Elasticsearch vs raw _bulk of the same documents", pkg: "./projections/search/elastic",
			bench: "BulkIndex/elasticsearch", baseline: "RawBulk/elasticsearch", metric: "docs/s"},
		pair{what: "Search: indexing on OpenSearch vs raw _bulk of the same documents", pkg: "./projections/search/elastic",
			bench: "BulkIndex/opensearch", baseline: "RawBulk/opensearch", metric: "docs/s"},
		pair{what: "Search: indexing on FTS5 vs raw FTS5 insert of the same documents", pkg: "./projections/search/fts",
			bench: "Index/index", baseline: "Index/raw", metric: "docs/s"})
	for _, s := range []struct{ name, sub string }{{"Elasticsearch", "elasticsearch"}, {"OpenSearch", "opensearch"}} {
		pairs = append(pairs, pair{what: "Search, 100,000 findings, faceted query, p99: " + s.name + " vs FTS5",
			pkg: "./projections/search/elastic", bench: "FacetedSearch/" + s.sub, basePkg: "./projections/search/fts", baseline: "FacetedSearch",
			metric: "p99-ms", latencies: true})
	}
	for _, s := range []struct{ name, sub string }{{"Elasticsearch", "elasticsearch"}, {"OpenSearch", "opensearch"}, {"FTS5", "fts5"}} {
		pairs = append(pairs, pair{what: "Search: command → searchable (p99 ms), " + s.name + ", vs a plain GET", pkg: "./cmd/soc",
			bench: "SearchVisibility/" + s.sub, metric: "p99-ms", latencies: true, baselineMetric: "get-p99-ms", latencyKeys: visibilityLatencies})
	}
	// Reports (issue 16: the executive PDF over 100,000 findings in ≤ 10 s): built from the
	// embedded default's read models and rendered, beside rendering the same Document alone.
	// Lower is better: the ratio is end-to-end/render-only.
	for _, tpl := range []string{"executive", "findings"} {
		pairs = append(pairs, pair{what: "Report: " + tpl + " PDF over 100,000 findings (ms), built + rendered vs rendered alone",
			pkg: "./query-api/reporting", bench: "Generate/" + tpl + "/build-pdf", baseline: "Generate/" + tpl + "/render", metric: "ms/report"})
	}
}

var (
	visibilityLatencies = [4]string{"p50-ms", "p99-ms", "get-p50-ms", "get-p99-ms"}
	queryAuthLatencies  = [4]string{"p50-ms", "p99-ms", "off-p50-ms", "off-p99-ms"}
	gatewayLatencies    = [4]string{"p50-ms", "p99-ms", "direct-p50-ms", "direct-p99-ms"}
)

// only, from SOC_BENCH_ONLY (a regular expression), keeps the rows whose benchmark or baseline
// it matches, and runs only their packages and top-level benchmarks: one row without the rest
// of the suite (`SOC_BENCH_ONLY=QueryAuth make bench`).
func only(pairs []pair, expr string) ([]pair, map[string][]string, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, nil, fmt.Errorf("SOC_BENCH_ONLY: %w", err)
	}
	kept := []pair{}
	tops := map[string][]string{} // package → top-level benchmarks
	for _, p := range pairs {
		if !re.MatchString(p.bench) && !re.MatchString(p.baseline) {
			continue
		}
		kept = append(kept, p)
		for _, b := range []struct{ pkg, name string }{{p.pkg, p.bench}, {p.basePackage(), p.baseline}} {
			if top, _, _ := strings.Cut(b.name, "/"); top != "" && !slices.Contains(tops[b.pkg], top) {
				tops[b.pkg] = append(tops[b.pkg], top)
			}
		}
	}
	return kept, tops, nil
}

// benchPattern is go test's -bench expression for exactly the top-level benchmarks tops (it
// matches the functions' names, Benchmark included).
func benchPattern(tops []string) string {
	return "^Benchmark(" + strings.Join(tops, "|") + ")$"
}

// runs says how each package is benchmarked: the imports are slow and sized by SOC_BENCH_FINDINGS
// (default 100,000 here, the figure), so they run once.
var runs = map[string][]string{
	"./commands/scans/app": {"-benchtime", "1x", "-timeout", "30m"},
	"./projections/vulns":  {"-bench", "FindingsProjection|FindingsBaselineInsert", "-benchtime", "100x"},
	// The read side's load driver: one node in the test process, loaded with a generated report
	// of SOC_BENCH_FINDINGS findings; each load runs SOC_BENCH_LOAD (default 10s).
	"./cmd/soc": {"-benchtime", "1x", "-timeout", "30m"},
	// Notifications: a fixed batch (SOC_BENCH_NOTIFICATIONS, default 2,000) delivered once.
	"./commands/notifications/app": {"-bench", "Notify", "-benchtime", "1x"},
	// Analytics: 20 queries each on ClickHouse (and two projections of SOC_BENCH_ANALYTICS_EVENTS);
	// SQLite answers scoped queries far slower, so 3 queries each there (p99 is then the slowest).
	"./projections/analytics/clickhouse": {"-benchtime", "20x", "-timeout", "60m"},
	"./projections/analytics/sqlstore":   {"-bench", "MillionQueries", "-benchtime", "3x", "-timeout", "120m"},
	// Search: each server's and FTS5's 100,000 findings are loaded once per package run.
	"./projections/search/elastic": {"-timeout", "30m"},
	"./projections/search/fts":     {"-timeout", "30m"},
	// Reports over SOC_BENCH_REPORT_FINDINGS findings (default 100,000), projected once.
	"./query-api/reporting": {"-bench", "Generate", "-benchtime", "3x", "-timeout", "30m"},
}

var lineRe = regexp.MustCompile(`^Benchmark([A-Za-z0-9_/.=-]+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	benchtime := envOr("BENCHTIME", "3s")
	findings := envOr("SOC_BENCH_FINDINGS", "100000")
	reportMB := envOr("SOC_BENCH_REPORT_MB", "250")
	facts := envOr("SOC_BENCH_ANALYTICS_FACTS", "1000000")
	for i := range pairs {
		pairs[i].bench = strings.ReplaceAll(pairs[i].bench, "findings=N", "findings="+findings)
		pairs[i].baseline = strings.ReplaceAll(pairs[i].baseline, "findings=N", "findings="+findings)
		pairs[i].what = strings.ReplaceAll(pairs[i].what, "generated Trivy report", "generated "+findings+"-finding Trivy report")
		pairs[i].what = strings.ReplaceAll(pairs[i].what, "N findings", findings+" findings")
		pairs[i].what = strings.ReplaceAll(pairs[i].what, "R MB", reportMB+" MB")
		pairs[i].what = strings.ReplaceAll(pairs[i].what, "F facts", facts+" facts")
	}
	var tops map[string][]string
	if expr := os.Getenv("SOC_BENCH_ONLY"); expr != "" {
		var err error
		if pairs, tops, err = only(pairs, expr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
	}
	results := map[string]map[string]float64{} // pkg/bench → metric → value
	pkgs := []string{}
	seen := map[string]bool{}
	for _, p := range pairs {
		for _, pkg := range []string{p.pkg, p.basePackage()} {
			if !seen[pkg] {
				seen[pkg] = true
				pkgs = append(pkgs, pkg)
			}
		}
	}
	for _, pkg := range pkgs {
		fmt.Fprintf(os.Stderr, "== go test -bench . -benchtime %s %s\n", benchtime, pkg)
		args := []string{"test", "-run", "^$", "-bench", ".", "-benchtime", benchtime, "-count", "1"}
		args = append(args, runs[pkg]...)
		if tops != nil { // the last -bench wins
			args = append(args, "-bench", benchPattern(tops[pkg]))
		}
		args = append(args, pkg)
		cmd := exec.Command("go", args...)
		cmd.Env = append(os.Environ(), "SOC_BENCH_FINDINGS="+findings, "SOC_BENCH_REPORT_MB="+reportMB)
		var out bytes.Buffer
		cmd.Stdout = io.MultiWriter(&out, os.Stderr)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "benchmarks of %s failed: %v\n", pkg, err)
			os.Exit(1)
		}
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			m := lineRe.FindStringSubmatch(strings.TrimSpace(sc.Text()))
			if m == nil {
				continue
			}
			vals := map[string]float64{}
			f := strings.Fields(m[2])
			for i := 0; i+1 < len(f); i += 2 {
				if v, err := strconv.ParseFloat(f[i], 64); err == nil {
					vals[f[i+1]] = v
				}
			}
			results[pkg+"/"+m[1]] = vals
		}
	}

	host, _ := os.Hostname()
	fmt.Printf("\nSOC Platform benchmarks — %s — %s, %d cores (%s/%s), %s, benchtime %s\n\n",
		time.Now().UTC().Format("2006-01-02"), host, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, cpuModel(), benchtime)
	fmt.Printf("| %-68s | %16s | %16s | %7s | %s\n", "benchmark", "platform", "raw baseline", "ratio", "latency p50 / p99 (platform; baseline)")
	fmt.Printf("|%s|%s|%s|%s|%s\n", strings.Repeat("-", 70), strings.Repeat("-", 18), strings.Repeat("-", 18), strings.Repeat("-", 9), strings.Repeat("-", 10))
	for _, p := range pairs {
		a, okA := results[p.pkg+"/"+p.bench]
		b, okB := results[p.basePackage()+"/"+p.baseline]
		if p.baselineMetric != "" {
			b, okB = map[string]float64{p.metric: a[p.baselineMetric]}, okA && a[p.baselineMetric] > 0
		}
		if !okA || !okB {
			fmt.Printf("| %-68s | %16s | %16s | %7s |\n", p.what, "skipped", "skipped", "—")
			continue
		}
		ratio := "—"
		if b[p.metric] > 0 {
			ratio = fmt.Sprintf("%.0f%%", 100*a[p.metric]/b[p.metric])
		}
		lat := ""
		if p.latencies {
			k := p.latencyKeys
			if k[0] == "" {
				lat = fmt.Sprintf("%.2f / %.2f ms; %.2f / %.2f ms", a["p50-ms"], a["p99-ms"], b["p50-ms"], b["p99-ms"])
			} else {
				lat = fmt.Sprintf("%.2f / %.2f ms; %.2f / %.2f ms", a[k[0]], a[k[1]], a[k[2]], a[k[3]])
			}
		}
		fmt.Printf("| %-68s | %12.0f %s | %12.0f %s | %7s | %s\n", p.what, a[p.metric], unit(p.metric), b[p.metric], unit(p.metric), ratio, lat)
	}
}

func unit(m string) string { return strings.Replace(m, "events", "ev", 1) }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.IndexByte(l, ':'); i >= 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return "unknown CPU"
}
