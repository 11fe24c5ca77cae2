package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"
)

// The search acceptance test (issue 17, "Done when"): real reports imported into a node, then
// GET /v1/search asked for a CVE id, a hostname, an IP range, a package name, a phrase of the
// descriptions and facet counts, each answer compared with what this test reads itself out of
// the report files (encoding/xml and encoding/json over the files, never the project's
// parsers); a triage becomes searchable; a misspelt field is a 400 pointing at it; a remediator
// finds its team's findings alone; `soc search` prints the same; and a rebuild with its
// generation (alias) swap while searches run loses none. The same flow runs on the embedded
// default and, when their servers are given, on Elasticsearch and OpenSearch.

// The reports: a Nessus scan of seven hosts (hostnames, addresses, CVEs, descriptions), a
// Grype CycloneDX BOM of log4j-core (CVE-2021-44228 and its package), and a Trivy filesystem
// scan imported onto an asset of team alpha (the scoping check).
const (
	searchNessus = "nessus/dd_internal_network_7hosts.nessus"
	searchCDX    = "cyclonedx/cdx14_grype_log4j_8vulns.json"
	searchTrivy  = "trivy/trivy_fs_cvssv4_catalina.json"
)

// nessusItem is one finding of the Nessus report as the test reads it.
type nessusItem struct {
	host, ip, title, severity string
	cves                      []string
	text                      []string // title, description, solution
}

// readNessus reads the report's findings, one per distinct (host, plugin, port, protocol) —
// the format's documented fingerprint — with the host's address.
func readNessus(t *testing.T, path string) []nessusItem {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Hosts []struct {
			Name  string `xml:"name,attr"`
			Props []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:",chardata"`
			} `xml:"HostProperties>tag"`
			Items []struct {
				Plugin      string   `xml:"pluginID,attr"`
				Port        string   `xml:"port,attr"`
				Protocol    string   `xml:"protocol,attr"`
				Severity    string   `xml:"severity,attr"`
				Name        string   `xml:"pluginName,attr"`
				Description string   `xml:"description"`
				Solution    string   `xml:"solution"`
				CVEs        []string `xml:"cve"`
			} `xml:"ReportItem"`
		} `xml:"Report>ReportHost"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	severities := map[string]string{"0": "info", "1": "low", "2": "medium", "3": "high", "4": "critical"}
	var out []nessusItem
	seen := map[string]bool{}
	for _, h := range doc.Hosts {
		ip := ""
		for _, p := range h.Props {
			if p.Name == "host-ip" {
				ip = strings.TrimSpace(p.Value)
			}
		}
		for _, it := range h.Items {
			fp := strings.Join([]string{strings.ToLower(h.Name), it.Plugin, it.Port, strings.ToLower(it.Protocol)}, "|")
			if seen[fp] {
				continue
			}
			seen[fp] = true
			title := strings.TrimSpace(it.Name)
			out = append(out, nessusItem{host: strings.ToLower(h.Name), ip: ip, title: title, severity: severities[it.Severity],
				cves: it.CVEs, text: []string{title, it.Description, it.Solution}})
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no findings read", path)
	}
	return out
}

// cdxFindings counts the BOM's findings (each vulnerability × each distinct affected ref) that
// name cve (by id) and those on a component named pkg.
func cdxFindings(t *testing.T, path, cve, pkg string) (withCVE, onPackage int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		Components []struct {
			Ref  string `json:"bom-ref"`
			Name string `json:"name"`
			Purl string `json:"purl"`
		} `json:"components"`
		Vulns []struct {
			ID      string `json:"id"`
			Affects []struct {
				Ref string `json:"ref"`
			} `json:"affects"`
		} `json:"vulnerabilities"`
	}
	if err := json.Unmarshal(b, &bom); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, c := range bom.Components {
		names[c.Ref] = c.Name
	}
	for _, v := range bom.Vulns {
		refs := map[string]bool{}
		for _, a := range v.Affects {
			refs[a.Ref] = true
		}
		for ref := range refs {
			if v.ID == cve {
				withCVE++
			}
			if names[ref] == pkg {
				onPackage++
			}
		}
	}
	return withCVE, onPackage
}

// phraseIn is the search contract's phrase rule, written again here: the phrase's tokens
// (letters and digits, lower-cased) appear consecutively in the tokens of one of texts.
func phraseIn(phrase string, texts ...string) bool {
	tokens := func(s string) []string {
		return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	}
	want := tokens(phrase)
	for _, text := range texts {
		got := tokens(text)
		for i := 0; i+len(want) <= len(got); i++ {
			if slices.Equal(got[i:i+len(want)], want) {
				return true
			}
		}
	}
	return false
}

// searchHit is a hit as the tests read it.
type searchHit struct {
	ID         string              `json:"id"`
	Kind       string              `json:"kind"`
	Title      string              `json:"title"`
	Severity   string              `json:"severity"`
	Status     string              `json:"status"`
	Scanner    string              `json:"scanner"`
	CVEs       []string            `json:"cves"`
	Packages   []string            `json:"packages"`
	AssetName  string              `json:"asset_name"`
	Hostnames  []string            `json:"hostnames"`
	IPs        []string            `json:"ips"`
	Team       string              `json:"team"`
	Highlights map[string][]string `json:"highlights"`
}

type facetValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

type searchAnswer struct {
	Query      string                  `json:"query"`
	Total      int64                   `json:"total"`
	Hits       []searchHit             `json:"hits"`
	Facets     map[string][]facetValue `json:"facets"`
	NextCursor string                  `json:"next_cursor"`
	Position   int64                   `json:"position"`
}

// searchAll pages through every hit of params as c, checking that the pages hold each hit
// once and add up to the total: the first page's answer (facets, total) and every hit.
func searchAll(t *testing.T, c reader, params url.Values) (searchAnswer, []searchHit) {
	t.Helper()
	params.Set("limit", "50")
	var first searchAnswer
	var all []searchHit
	seen := map[string]bool{}
	for page := 0; ; page++ {
		r := c.get("/v1/search?" + params.Encode())
		var a searchAnswer
		if r.status != http.StatusOK || json.Unmarshal(r.body, &a) != nil {
			t.Fatalf("GET /v1/search?%s: %d %s", params.Encode(), r.status, r.body)
		}
		if page == 0 {
			first = a
		}
		for _, h := range a.Hits {
			if seen[h.ID] {
				t.Errorf("search %s: %s on two pages", params.Get("q"), h.ID)
			}
			seen[h.ID] = true
		}
		all = append(all, a.Hits...)
		if a.NextCursor == "" {
			break
		}
		params.Set("cursor", a.NextCursor)
	}
	params.Del("cursor")
	if int64(len(all)) != first.Total {
		t.Errorf("search %s: %d hits over the pages, total %d", params.Get("q"), len(all), first.Total)
	}
	return first, all
}

// waitSettled waits until the search index's position reaches the store's head (/readyz) and
// the head has not moved for a second (bounded by waitProgress: no progress for two minutes).
func waitSettled(t *testing.T, c reader) {
	t.Helper()
	head := func() int64 {
		r := c.get("/readyz")
		var ready struct {
			Checks map[string]struct {
				Head int64 `json:"head_position"`
			} `json:"checks"`
		}
		if json.Unmarshal(r.body, &ready) != nil {
			t.Fatalf("GET /readyz: %d %s", r.status, r.body)
		}
		return ready.Checks["event_store"].Head
	}
	last, since := int64(-1), time.Now()
	waitProgress(t, "the search index to settle at the store's head", func() (bool, int64) {
		h := head()
		r := c.get("/v1/search?limit=1")
		var a searchAnswer
		if r.status != http.StatusOK || json.Unmarshal(r.body, &a) != nil {
			t.Fatalf("GET /v1/search: %d %s", r.status, r.body)
		}
		if h != last {
			last, since = h, time.Now()
		}
		return a.Position >= h && time.Since(since) >= time.Second, a.Position
	})
}

// sortedTitles is the multiset of hits' titles, sorted.
func sortedTitles(hits []searchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Title
	}
	slices.Sort(out)
	return out
}

func searchFlow(t *testing.T, env []string) {
	td := sharedTestdata(t)
	bin := plainSocBin(t)
	dataDir := t.TempDir()
	env = append(append([]string(nil), env...), "SOC_DATA_DIR="+dataDir)
	n := startNodeOf(t, bin, env)
	base := "http://" + n.addr
	admin := apiClient{t: t, base: base}

	// Team alpha owns an asset the Trivy scan is imported onto; the other reports' assets have no team.
	alpha := createTeam(t, admin, "alpha")
	rem := newMember(t, admin, "remediator@search.example.com", "remediator", alpha)
	alphaAsset, _ := registerAsset(t, admin, "alpha-host", alpha)
	sumA := importOnto(t, admin, filepath.Join(td, searchTrivy), alphaAsset)
	nessus := importOver(t, n, filepath.Join(td, searchNessus), nil, url.Values{})
	cdx := importOver(t, n, filepath.Join(td, searchCDX), nil, url.Values{})

	items := readNessus(t, filepath.Join(td, searchNessus))
	const cve, pkg = "CVE-2021-44228", "log4j-core"
	cdxCVE, cdxPkg := cdxFindings(t, filepath.Join(td, searchCDX), cve, pkg)
	if nessus.New != len(items) || cdxPkg == 0 || cdxCVE == 0 {
		t.Fatalf("the reports read %d nessus findings (the import opened %d), %d on %s, %d with %s", len(items), nessus.New, cdxPkg, pkg, cdxCVE, cve)
	}
	totalFindings := int64(sumA.New + nessus.New + cdx.New)

	// The index catches up with the imports.
	waitProgress(t, "the search index to hold every finding", func() (bool, int64) {
		r := admin.get("/v1/search?types=finding&limit=1")
		var a searchAnswer
		if r.status != http.StatusOK || json.Unmarshal(r.body, &a) != nil {
			t.Fatalf("GET /v1/search: %d %s", r.status, r.body)
		}
		return a.Total == totalFindings, a.Total
	})
	// …and with what the imports set off (enrichment, due dates, sagas): a finding changed
	// between two pages moves in the "at" order, so the queries below wait until the index has
	// applied the store's head and the head has stayed put for a second.
	waitSettled(t, admin)

	search := func(q string, kv ...string) (searchAnswer, []searchHit) {
		t.Helper()
		p := url.Values{"q": {q}}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Set(kv[i], kv[i+1])
		}
		return searchAll(t, admin, p)
	}
	titlesOf := func(keep func(nessusItem) bool) []string {
		var out []string
		for _, it := range items {
			if keep(it) {
				out = append(out, it.title)
			}
		}
		slices.Sort(out)
		return out
	}

	t.Run("a CVE id", func(t *testing.T) {
		nessusCVE := items[slices.IndexFunc(items, func(it nessusItem) bool { return len(it.cves) > 0 })].cves[0]
		want := titlesOf(func(it nessusItem) bool { return slices.Contains(it.cves, nessusCVE) })
		a, hits := search("cve:"+strings.ToLower(nessusCVE), "types", "finding")
		if got := sortedTitles(hits); !slices.Equal(got, want) {
			t.Errorf("cve:%s found %v, the report has %v", nessusCVE, got, want)
		}
		if a.Query != "cve:"+nessusCVE {
			t.Errorf("the canonical query is %q", a.Query)
		}
		_, hits = search("cve:"+cve, "types", "finding")
		if len(hits) != cdxCVE {
			t.Errorf("cve:%s found %d findings, the BOM has %d", cve, len(hits), cdxCVE)
		}
		for _, h := range hits {
			if !slices.Contains(h.CVEs, cve) {
				t.Errorf("cve:%s found %s with CVEs %v", cve, h.ID, h.CVEs)
			}
		}
	})

	host := items[len(items)/2].host
	t.Run("a hostname", func(t *testing.T) {
		want := titlesOf(func(it nessusItem) bool { return it.host == host })
		_, hits := search("host:"+strings.ToUpper(host), "types", "finding")
		if got := sortedTitles(hits); !slices.Equal(got, want) {
			t.Errorf("host:%s found %d findings %v, the report has %d %v", host, len(got), got, len(want), want)
		}
		_, assets := search("asset:"+host, "types", "asset")
		if len(assets) != 1 || !slices.Contains(assets[0].Hostnames, host) {
			t.Errorf("asset:%s found %+v, want its one asset", host, assets)
		}
	})

	t.Run("an IP range", func(t *testing.T) {
		prefix := netip.MustParsePrefix("10.31.112.24/30")
		wantIPs := map[string]bool{}
		want := titlesOf(func(it nessusItem) bool {
			a, err := netip.ParseAddr(it.ip)
			if err == nil && prefix.Contains(a) {
				wantIPs[it.ip] = true
				return true
			}
			return false
		})
		if len(wantIPs) == 0 {
			t.Fatalf("no host of the report in %s", prefix)
		}
		_, hits := search("ip:"+prefix.String(), "types", "finding")
		if got := sortedTitles(hits); !slices.Equal(got, want) {
			t.Errorf("ip:%s found %d findings, the report has %d", prefix, len(got), len(want))
		}
		_, assets := search("ip:"+prefix.String(), "types", "asset")
		gotIPs := map[string]bool{}
		for _, a := range assets {
			for _, ip := range a.IPs {
				gotIPs[ip] = true
			}
		}
		if len(assets) != len(wantIPs) || len(gotIPs) != len(wantIPs) {
			t.Errorf("ip:%s found assets with %v, the report's hosts in it have %v", prefix, gotIPs, wantIPs)
		}
	})

	t.Run("a package name", func(t *testing.T) {
		_, hits := search("package:"+pkg, "types", "finding")
		if len(hits) != cdxPkg {
			t.Errorf("package:%s found %d findings, the BOM has %d", pkg, len(hits), cdxPkg)
		}
		for _, h := range hits {
			if !slices.Contains(h.Packages, pkg) {
				t.Errorf("package:%s found %s with packages %v", pkg, h.ID, h.Packages)
			}
		}
	})

	t.Run("a phrase in descriptions", func(t *testing.T) {
		const phrase = "man-in-the-middle"
		want := titlesOf(func(it nessusItem) bool { return phraseIn(phrase, it.text...) })
		if len(want) == 0 {
			t.Fatalf("no finding of the report says %q", phrase)
		}
		_, hits := search(`"`+phrase+`" scanner:nessus`, "types", "finding")
		if got := sortedTitles(hits); !slices.Equal(got, want) {
			t.Errorf("%q found %d findings %v, the report has %d %v", phrase, len(got), got, len(want), want)
		}
		marked := false
		for _, h := range hits {
			for _, frags := range h.Highlights {
				for _, f := range frags {
					marked = marked || strings.Contains(strings.ToLower(f), "<mark>")
				}
			}
		}
		if !marked {
			t.Errorf("no hit of %q highlights a word", phrase)
		}
	})

	t.Run("facet counts", func(t *testing.T) {
		want := map[string]int64{}
		for _, it := range items {
			if it.host == host {
				want[it.severity]++
			}
		}
		a, hits := search("host:"+host, "types", "finding", "facets", "severity,scanner")
		got := map[string]int64{}
		for _, v := range a.Facets["severity"] {
			got[v.Value] = v.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("severity facet of host:%s = %v, the report has %v", host, got, want)
		}
		if s := a.Facets["scanner"]; len(s) != 1 || s[0].Value != "nessus" || s[0].Count != int64(len(hits)) {
			t.Errorf("scanner facet of host:%s = %+v, want nessus=%d", host, s, len(hits))
		}
	})

	t.Run("a triage becomes searchable", func(t *testing.T) {
		_, hits := search("host:"+host+" status:open", "types", "finding")
		if len(hits) == 0 {
			t.Fatalf("no open finding on %s", host)
		}
		id := hits[0].ID
		if r := admin.do(http.MethodPost, "/v1/findings/"+id+"/triage", `{}`); r.status != http.StatusOK {
			t.Fatalf("triage %s: %d %s", id, r.status, r.body)
		}
		eventually(t, "the triage of "+id+" to be searchable", func() bool {
			_, hits := search("status:triaged host:"+host, "types", "finding")
			return len(hits) == 1 && hits[0].ID == id
		})
	})

	t.Run("a parse error points at its position", func(t *testing.T) {
		q := "log4j sevrity:critical"
		r := admin.get("/v1/search?q=" + url.QueryEscape(q))
		m := r.json(t)
		if r.status != http.StatusBadRequest || m["field"] != "q" || m["position"] != float64(strings.Index(q, "sevrity")) {
			t.Errorf("q=%s: %d %v, want 400 on q at byte %d", q, r.status, m, strings.Index(q, "sevrity"))
		}
		if d, _ := m["detail"].(string); !strings.Contains(d, "severity") {
			t.Errorf("the problem does not suggest severity: %v", m)
		}
	})

	t.Run("a remediator finds its team's findings alone", func(t *testing.T) {
		a, hits := searchAll(t, rem, url.Values{"types": {"finding"}, "facets": {"team"}})
		if len(hits) != sumA.New {
			t.Errorf("the remediator of alpha found %d findings, alpha's asset has %d", len(hits), sumA.New)
		}
		for _, h := range hits {
			if h.Team != alpha {
				t.Errorf("the remediator of alpha found %s of team %q", h.ID, h.Team)
			}
		}
		if f := a.Facets["team"]; len(f) != 1 || f[0].Value != alpha {
			t.Errorf("the remediator's team facet: %+v", f)
		}
		if r := rem.get("/v1/search?types=event"); r.status != http.StatusForbidden {
			t.Errorf("a remediator asking for the audit trail: %d %s, want 403", r.status, r.body)
		}
	})

	t.Run("soc search", func(t *testing.T) {
		out, errOut, code := socCmdOf(t, bin, nil, "search", "package:"+pkg, "--types", "finding", "--server", base)
		if code != 0 {
			t.Fatalf("soc search exited %d: %s", code, errOut)
		}
		if !strings.Contains(out, fmt.Sprintf("%d of %d", cdxPkg, cdxPkg)) || !strings.Contains(out, "log4j-core") {
			t.Errorf("soc search printed:\n%s", out)
		}
		out, _, code = socCmdOf(t, bin, nil, "search", "sevrity:high", "--server", base)
		if code == 0 {
			t.Errorf("soc search of a misspelt field exited 0:\n%s", out)
		}
	})

	t.Run("soc projections status", func(t *testing.T) {
		status := exec.Command(bin, "projections", "status", "search", "--json")
		status.Env = append(os.Environ(), env...)
		out, err := status.Output()
		var line struct {
			Name     string `json:"name"`
			Backend  string `json:"backend"`
			Position int64  `json:"position"`
		}
		if err != nil || json.Unmarshal(out, &line) != nil {
			t.Fatalf("soc projections status search: %v\n%s", err, out)
		}
		if line.Name != "search" || line.Backend == "" || line.Position == 0 {
			t.Errorf("soc projections status search printed %s", out)
		}
	})

	t.Run("a rebuild loses no search", func(t *testing.T) {
		replaySearchWhileQuerying(t, bin, env, admin, totalFindings)
	})
	n.stop(t)
}

// replaySearchWhileQuerying runs `soc replay --projection search` while searches run in a loop,
// and counts the searches that failed or saw another total: there must be none.
func replaySearchWhileQuerying(t *testing.T, bin string, env []string, c apiClient, total int64) {
	var stop atomic.Bool
	var searches, failures atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load() && i < 100000; i++ {
				req, _ := http.NewRequest(http.MethodGet, c.base+"/v1/search?types=finding&limit=5&facets=severity", nil)
				resp, err := testClient.Do(req)
				searches.Add(1)
				if err != nil {
					failures.Add(1)
					continue
				}
				var a searchAnswer
				if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&a) != nil || a.Total != total {
					failures.Add(1)
				}
				resp.Body.Close()
			}
		}()
	}
	replay := exec.Command(bin, "replay", "--projection", "search")
	replay.Env = append(os.Environ(), env...)
	out, err := replay.CombinedOutput()
	time.Sleep(200 * time.Millisecond) // a few searches after the swap too
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatalf("soc replay --projection search: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), `"projection":"search"`) {
		t.Errorf("soc replay printed %s", out)
	}
	if searches.Load() == 0 || failures.Load() != 0 {
		t.Errorf("during the rebuild %d of %d searches failed or saw another total", failures.Load(), searches.Load())
	}
	t.Logf("%d searches during the rebuild, %d failed", searches.Load(), failures.Load())
}

func TestSearchEmbedded(t *testing.T) { searchFlow(t, nil) }

func TestSearchElasticsearch(t *testing.T) {
	u := requireServer(t, "SOC_TEST_ELASTICSEARCH_URL")
	searchFlow(t, []string{"SOC_ELASTICSEARCH_URL=" + u, "SOC_SEARCH_INDEX=" + searchTestIndex(t, u)})
}

func TestSearchOpenSearch(t *testing.T) {
	u := requireServer(t, "SOC_TEST_OPENSEARCH_URL")
	searchFlow(t, []string{"SOC_OPENSEARCH_URL=" + u, "SOC_SEARCH_INDEX=" + searchTestIndex(t, u)})
}

// searchTestIndex is an alias of the test's own on the shared server at base; the indices
// behind it (<alias>-NNNNNN) are deleted when the test ends.
func searchTestIndex(t testing.TB, base string) string {
	alias := "soc-e2e-" + randomSuffix()
	t.Cleanup(func() {
		req, _ := http.NewRequest(http.MethodDelete, strings.TrimRight(base, "/")+"/"+alias+"-*", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	return alias
}

// A node with both search servers set refuses to start, naming both flags.
func TestSearchServersAreExclusive(t *testing.T) {
	_, errOut, code := socCmd(t, []string{"SOC_ELASTICSEARCH_URL=http://127.0.0.1:1", "SOC_OPENSEARCH_URL=http://127.0.0.1:2"}, "replay", "--projection", "search")
	if code != 2 || !strings.Contains(errOut, "--elasticsearch-url") || !strings.Contains(errOut, "--opensearch-url") {
		t.Errorf("exit %d, stderr %s; want 2 naming both flags", code, errOut)
	}
}
