package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestNVDPage38CVEs(t *testing.T) {
	cves, st, data := mustCollect(t, collectNVD, "nvd", "nvd_api2_page_38cves.json")
	// jq '.vulnerabilities|length' nvd_api2_page_38cves.json  → 38
	if len(cves) != 38 || st.Records != 38 {
		t.Fatalf("got %d CVEs (Records %d), want 38", len(cves), st.Records)
	}
	if st.Bytes != int64(len(data)) || len(st.Warnings) != 0 || st.Skipped != 0 {
		t.Errorf("stats: bytes %d of %d, warnings %v, skipped %d", st.Bytes, len(data), st.Warnings, st.Skipped)
	}
	// jq -c '{rpp:.resultsPerPage,si:.startIndex,tr:.totalResults,f:.format,v:.version,ts:.timestamp}'
	//   → {"rpp":38,"si":0,"tr":38,"f":"NVD_CVE","v":"2.0","ts":"2023-10-18T18:04:18.493"}
	wantHeader := &NVDHeader{ResultsPerPage: 38, StartIndex: 0, TotalResults: 38, Format: "NVD_CVE", Version: "2.0",
		Timestamp: time.Date(2023, 10, 18, 18, 4, 18, 493e6, time.UTC)}
	if !reflect.DeepEqual(st.NVD, wantHeader) {
		t.Errorf("header %+v, want %+v", st.NVD, wantHeader)
	}
	// jq -r '[.vulnerabilities[].cve.id]|first,last' → CVE-2023-27314, CVE-2023-20261
	if cves[0].ID != "CVE-2023-27314" || cves[37].ID != "CVE-2023-20261" {
		t.Errorf("first/last ids %s/%s", cves[0].ID, cves[37].ID)
	}

	var ratings, cwes, cpes, matches, refs int
	var noinfo, unrated []string
	for _, c := range cves {
		ratings += len(c.CVSS)
		cwes += len(c.CWEs)
		cpes += len(c.CPEs)
		matches += len(c.CPEMatches)
		refs += len(c.References)
		if len(c.CVSS) == 0 {
			unrated = append(unrated, c.ID)
		}
		if reflect.DeepEqual(c.OtherWeaknesses, []string{"NVD-CWE-noinfo"}) {
			noinfo = append(noinfo, c.ID)
		} else if len(c.OtherWeaknesses) != 0 {
			t.Errorf("%s: other weaknesses %v", c.ID, c.OtherWeaknesses)
		}
		for _, r := range c.CVSS {
			if r.Version != "3.1" || !strings.HasPrefix(r.Vector, "CVSS:3.1/") || r.Severity == "" {
				t.Errorf("%s: rating %+v", c.ID, r)
			}
		}
		if c.KEV != nil {
			t.Errorf("%s: unexpected KEV info", c.ID)
		}
	}
	// jq '[.vulnerabilities[].cve.metrics[]?[]]|length' → 48 (all cvssMetricV31: jq
	// '[.vulnerabilities[].cve.metrics|keys[]]|group_by(.)|map({(.[0]):length})|add' → {"cvssMetricV31":35})
	if ratings != 48 {
		t.Errorf("ratings %d, want 48", ratings)
	}
	// jq -c '[.vulnerabilities[].cve|select(.metrics|length==0)|.id]'
	if want := []string{"CVE-2023-43250", "CVE-2023-45383", "CVE-2023-46009"}; !reflect.DeepEqual(unrated, want) {
		t.Errorf("unrated %v, want %v", unrated, want)
	}
	// jq '[.vulnerabilities[].cve|[.weaknesses[]?.description[].value|select(test("^CWE-[0-9]+$"))]|unique|length]|add' → 33
	if cwes != 33 {
		t.Errorf("CWEs %d, want 33", cwes)
	}
	// jq '[.vulnerabilities[].cve|select([.weaknesses[]?.description[].value]|index("NVD-CWE-noinfo"))|.id]'
	if want := []string{"CVE-2023-27314", "CVE-2021-38859", "CVE-2022-43889", "CVE-2023-22068"}; !reflect.DeepEqual(noinfo, want) {
		t.Errorf("NVD-CWE-noinfo in %v, want %v", noinfo, want)
	}
	// jq '[.vulnerabilities[].cve|[.configurations[]?.nodes[].cpeMatch[]|select(.vulnerable)|.criteria]|unique|length]|add' → 34
	// jq '[.vulnerabilities[].cve|[.configurations[]?.nodes[].cpeMatch[]|select(.vulnerable)]|length]|add' → 34
	// (jq '[.vulnerabilities[].cve.configurations[]?.nodes[].cpeMatch[]|select(.vulnerable|not)]|length' → 22 not vulnerable)
	if cpes != 34 || matches != 34 {
		t.Errorf("CPEs %d, matches %d, want 34, 34", cpes, matches)
	}
	// jq '[.vulnerabilities[].cve|[.references[]?.url]|unique|length]|add' → 56
	if refs != 56 {
		t.Errorf("references %d, want 56", refs)
	}

	// jq -c '.vulnerabilities[0].cve|{id,published,lastModified,vulnStatus,sourceIdentifier,m:[...],w:[...],c:[...]}'
	c := cves[0]
	want := CVE{
		ID:               "CVE-2023-27314",
		SourceIdentifier: "security-alert@netapp.com",
		Published:        time.Date(2023, 10, 12, 19, 15, 11, 747e6, time.UTC),
		LastModified:     time.Date(2023, 10, 18, 18, 0, 24, 900e6, time.UTC),
		VulnStatus:       "Analyzed",
		Description: "ONTAP 9 versions prior to 9.8P19, 9.9.1P16, 9.10.1P12, 9.11.1P8, \n9.12.1P2 and 9.13.1 are " +
			"susceptible to a vulnerability which could allow\n a remote unauthenticated attacker to cause a crash of the HTTP service.",
		CVSS: []Rating{
			{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH", "nvd@nist.gov", "Primary"},
			{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "HIGH", "security-alert@netapp.com", "Secondary"},
		},
		CWEs:            []string{"CWE-400"},
		OtherWeaknesses: []string{"NVD-CWE-noinfo"},
	}
	for _, v := range []string{"*:*", "9.8:-", "9.8:p7", "9.9.1:-", "9.9.1:p3", "9.10.0:-", "9.10.1:-", "9.12.0:-", "9.13.0:-"} {
		want.CPEs = append(want.CPEs, "cpe:2.3:a:netapp:clustered_data_ontap:"+v+":*:*:*:*:*:*")
	}
	if got := c.CPEs; !reflect.DeepEqual(got, want.CPEs) {
		t.Errorf("CPEs\n got %q\nwant %q", got, want.CPEs)
	}
	if len(c.References) != 1 || len(c.CPEMatches) != 9 {
		t.Errorf("references %v, %d CPE matches", c.References, len(c.CPEMatches))
	}
	c.CPEs, c.CPEMatches, c.References = want.CPEs, nil, nil
	if !reflect.DeepEqual(c, want) {
		t.Errorf("CVE-2023-27314\n got %+v\nwant %+v", c, want)
	}
}

func TestNVDCVE20240012V40V31KEV(t *testing.T) {
	// A bare CVE object (the "cve" member of a vulnerabilities[] item).
	cves, st, _ := mustCollect(t, collectNVD, "nvd", "nvd_cve_CVE-2024-0012_v40_v31_kev.json")
	if len(cves) != 1 || st.Records != 1 || st.NVD != nil {
		t.Fatalf("%d CVEs, stats %+v", len(cves), st)
	}
	c := cves[0]
	// jq -c '{v40:[.metrics.cvssMetricV40[]|[.cvssData.version,.cvssData.baseScore,.cvssData.baseSeverity,.source,.type]],
	//        v31:[.metrics.cvssMetricV31[]|[…, .cvssData.vectorString]]}'
	wantCVSS := []Rating{
		{"4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:N/SA:N/E:X/CR:X/IR:X/AR:X/MAV:X/MAC:X/MAT:X/MPR:X/MUI:X/MVC:X/MVI:X/MVA:X/MSC:X/MSI:X/MSA:X/S:X/AU:N/R:U/V:C/RE:H/U:Red",
			9.3, "CRITICAL", "psirt@paloaltonetworks.com", "Secondary"},
		{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL", "nvd@nist.gov", "Primary"},
	}
	if !reflect.DeepEqual(c.CVSS, wantCVSS) {
		t.Errorf("CVSS\n got %+v\nwant %+v", c.CVSS, wantCVSS)
	}
	// jq -c '[.cisaExploitAdd,.cisaActionDue,.cisaVulnerabilityName]'
	wantKEV := &KEVInfo{
		DateAdded:         time.Date(2024, 11, 18, 0, 0, 0, 0, time.UTC),
		DueDate:           time.Date(2024, 12, 9, 0, 0, 0, 0, time.UTC),
		RequiredAction:    "Apply mitigations per vendor instructions or discontinue use of the product if mitigations are unavailable. Additionally, management interface for affected devices should not be exposed to untrusted networks, including the internet.",
		VulnerabilityName: "Palo Alto Networks PAN-OS Management Interface Authentication Bypass Vulnerability",
	}
	if !reflect.DeepEqual(c.KEV, wantKEV) {
		t.Errorf("KEV %+v, want %+v", c.KEV, wantKEV)
	}
	// jq -c '[.weaknesses[].description[].value]' → ["CWE-306","CWE-306"] (two sources), distinct: one
	if !reflect.DeepEqual(c.CWEs, []string{"CWE-306"}) || c.OtherWeaknesses != nil {
		t.Errorf("CWEs %v, other %v", c.CWEs, c.OtherWeaknesses)
	}
	// jq '[.configurations[].nodes[].cpeMatch[]|select(.vulnerable)]|length' → 9;
	// jq '[.configurations[].nodes[].cpeMatch[]|select(.vulnerable)|.criteria]|unique|length' → 6
	if len(c.CPEMatches) != 9 || len(c.CPEs) != 6 {
		t.Errorf("%d matches, %d CPEs, want 9, 6", len(c.CPEMatches), len(c.CPEs))
	}
	if m := c.CPEMatches[0]; m != (CPEMatch{Criteria: "cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*",
		MatchCriteriaID: "7D294CCB-C898-444E-BD41-D423B96F8E23", VersionStartIncluding: "10.2.0", VersionEndExcluding: "10.2.12"}) {
		t.Errorf("first match %+v", m)
	}
	// jq '[.references[].url]|unique|length' → 3
	if len(c.References) != 3 || c.References[0] != "https://security.paloaltonetworks.com/CVE-2024-0012" {
		t.Errorf("references %v", c.References)
	}
	if !strings.HasPrefix(c.Description, "An authentication bypass in Palo Alto Networks PAN-OS software") ||
		!strings.Contains(c.Description, "recommended\u00a0 best practice") {
		t.Errorf("description %q", c.Description)
	}
	if c.Published != time.Date(2024, 11, 18, 16, 15, 11, 683e6, time.UTC) || c.VulnStatus != "Modified" {
		t.Errorf("published %v, status %q", c.Published, c.VulnStatus)
	}
}

func TestNVDSingleCVE20221576Page(t *testing.T) {
	cves, st, _ := mustCollect(t, collectNVD, "nvd", "nvd_api2_single_CVE-2022-1576.json")
	if len(cves) != 1 || st.NVD == nil || st.NVD.ResultsPerPage != 1 || st.NVD.TotalResults != 1 {
		t.Fatalf("%d CVEs, header %+v", len(cves), st.NVD)
	}
	c := cves[0]
	// jq -c '.vulnerabilities[0].cve|[.metrics|to_entries[]|.value[]|[.cvssData.version,.cvssData.baseScore,
	//        (.cvssData.baseSeverity // .baseSeverity),.cvssData.vectorString]]'
	// v2 keeps baseSeverity beside cvssData, not in it.
	want := []Rating{
		{"3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:H/A:N", 6.5, "MEDIUM", "nvd@nist.gov", "Primary"},
		{"2.0", "AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3, "MEDIUM", "nvd@nist.gov", "Primary"},
	}
	if c.ID != "CVE-2022-1576" || !reflect.DeepEqual(c.CVSS, want) {
		t.Errorf("%s CVSS %+v", c.ID, c.CVSS)
	}
	// The criteria keeps its escaped ampersand: jq -r '…cpeMatch[]|.criteria'. The two references
	// share one URL (two sources): jq '.vulnerabilities[0].cve|[.references[].url]|unique|length' → 1
	if !reflect.DeepEqual(c.CPEs, []string{`cpe:2.3:a:themeisle:wp_maintenance_mode_\&_coming_soon:*:*:*:*:*:wordpress:*:*`}) ||
		!reflect.DeepEqual(c.CWEs, []string{"CWE-352"}) ||
		!reflect.DeepEqual(c.References, []string{"https://wpscan.com/vulnerability/68deab46-1c16-46ae-a912-a104958ca4cf"}) {
		t.Errorf("CPEs %q, CWEs %v, refs %v", c.CPEs, c.CWEs, c.References)
	}
	if c.LastModified != time.Date(2024, 11, 21, 6, 41, 0, 133e6, time.UTC) {
		t.Errorf("lastModified %v", c.LastModified)
	}
}

func TestNVDCVE202625076Wrapped(t *testing.T) {
	// {"cve": {...}} with Anchore-augmented cpeMatch entries (an extra "fix" object).
	cves, st, _ := mustCollect(t, collectNVD, "nvd", "nvd_cve_CVE-2026-25076_v40_anchore_augmented.json")
	if len(cves) != 1 || st.NVD != nil {
		t.Fatalf("%d CVEs, header %+v", len(cves), st.NVD)
	}
	c := cves[0]
	// jq -c '.cve|{vulnStatus, m:[.metrics|to_entries[]|.value[]|[.cvssData.version,.cvssData.baseScore,.cvssData.baseSeverity,.type]],
	//        cwes:[.weaknesses[].description[].value], ncpe:(…|length), cpe:(…|unique), refs:(…|length), kev:has("cisaExploitAdd")}'
	//   → "Awaiting Analysis", [["4.0",8.5,"HIGH","Secondary"],["3.1",7.3,"HIGH","Primary"]], ["CWE-89"], 4, 4 CPEs, 3, false
	if c.ID != "CVE-2026-25076" || c.VulnStatus != "Awaiting Analysis" || c.KEV != nil {
		t.Errorf("%+v", c)
	}
	if len(c.CVSS) != 2 || c.CVSS[0].Version != "4.0" || c.CVSS[0].BaseScore != 8.5 || c.CVSS[1].Version != "3.1" || c.CVSS[1].BaseScore != 7.3 {
		t.Errorf("CVSS %+v", c.CVSS)
	}
	if !reflect.DeepEqual(c.CWEs, []string{"CWE-89"}) || len(c.CPEMatches) != 4 || len(c.CPEs) != 4 || len(c.References) != 3 {
		t.Errorf("CWEs %v, %d matches, CPEs %v, %d refs", c.CWEs, len(c.CPEMatches), c.CPEs, len(c.References))
	}
}

// The three shapes (page, {"cve": …}, bare object) give the same record, whatever the member order.
func TestNVDShapesAgree(t *testing.T) {
	bare := readShared(t, "nvd", "nvd_cve_CVE-2024-0012_v40_v31_kev.json")
	ref, _, err := collectNVD(Options{}, bare)
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range map[string]string{
		"wrapped":        `{"cve":` + string(bare) + `}`,
		"page":           `{"resultsPerPage":1,"startIndex":0,"totalResults":1,"format":"NVD_CVE","version":"2.0","vulnerabilities":[{"cve":` + string(bare) + `}]}`,
		"header last":    `{"vulnerabilities":[{"cve":` + string(bare) + `}],"format":"NVD_CVE","version":"2.0","resultsPerPage":1,"startIndex":0,"totalResults":1}`,
		"bare in a page": `{"vulnerabilities":[` + string(bare) + `]}`,
		"gzip":           gz(bare),
		"bom":            "\uFEFF" + string(bare),
	} {
		got, st, err := collectNVD(Options{}, []byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, ref) {
			t.Errorf("%s: got %+v", name, got)
		}
		if len(st.Warnings) != 0 {
			t.Errorf("%s: warnings %v", name, st.Warnings)
		}
	}
}

func gz(b []byte) string {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.String()
}

const nvdTwo = `{
  "resultsPerPage": 2, "startIndex": 0, "totalResults": 2, "format": "NVD_CVE", "version": "2.0",
  "vulnerabilities": [
    {"cve": {"id": "CVE-2024-0001", "published": "2024-01-01T00:00:00.000", "metrics": {"cvssMetricV31": [
      {"source": "nvd@nist.gov", "type": "Primary", "cvssData": {"version": "3.1", "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}]}}},
    {"cve": {"id": "CVE-2024-0002", "published": "2024-01-02T00:00:00.000"}}
  ]
}`

func TestNVDRecordErrors(t *testing.T) {
	checkRecordErrors(t, FeedNVD, nvdTwo, collectNVD, []recordErrorCase{
		{"bad id", `"CVE-2024-0002"`, `"CVE-24-2"`, ErrInvalidValue, "vulnerabilities[1].cve.id", 1, 6},
		{"bad date", `"2024-01-02T00:00:00.000"`, `"yesterday"`, ErrInvalidValue, "vulnerabilities[1].cve.published", 1, 6},
		{"score out of range", `9.8`, `98`, ErrInvalidValue, "vulnerabilities[0].cve.metrics.cvssMetricV31[0].cvssData.baseScore", 0, 4},
		{"score 1e400", `9.8`, `1e400`, ErrInvalidValue, "vulnerabilities[0].cve.metrics.cvssMetricV31.cvssData.baseScore", 0, 5},
		{"score as string", `9.8`, `"9.8"`, ErrInvalidValue, "vulnerabilities[0].cve.metrics.cvssMetricV31.cvssData.baseScore", 0, 5},
		{"vector of another version", `"CVSS:3.1/AV:N`, `"CVSS:3.0/AV:N`, ErrInvalidValue, "vulnerabilities[0].cve.metrics.cvssMetricV31[0].cvssData.vectorString", 0, 4},
		{"unknown cvss version", `"version": "3.1"`, `"version": "3.2"`, ErrInvalidValue, "vulnerabilities[0].cve.metrics.cvssMetricV31[0].cvssData.version", 0, 4},
		{"no cve", `{"cve": {"id": "CVE-2024-0002", "published": "2024-01-02T00:00:00.000"}}`, `{"cwe": 1}`, ErrInvalidValue, "vulnerabilities[1]", 1, 6},
		{"wrong type", `"vulnerabilities": [`, `"vulnerabilities": 7, "x": [`, ErrSyntax, "vulnerabilities", -1, 3},
		{"wrong format", `"NVD_CVE"`, `"NVD_CPE"`, ErrUnknownFormat, "format", -1, 2},
		{"header type", `"totalResults": 2`, `"totalResults": "2"`, ErrInvalidValue, "totalResults", -1, 2},
	})
}

func TestNVDSkipInvalid(t *testing.T) {
	doc := []byte(strings.Replace(nvdTwo, `"CVE-2024-0001"`, `"CVE-1"`, 1))
	cves, st, err := collectNVD(Options{SkipInvalid: true}, doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(cves) != 1 || cves[0].ID != "CVE-2024-0002" || st.Records != 1 || st.Skipped != 1 {
		t.Fatalf("cves %v, stats %+v", cves, st)
	}
	if len(st.Warnings) != 1 || st.Warnings[0].Code != WarnSkippedRecord || st.Warnings[0].Record != 0 ||
		st.Warnings[0].Err.Field != "vulnerabilities[0].cve.id" {
		t.Errorf("warnings %+v", st.Warnings)
	}
	// Structural errors are never skipped.
	_, _, err = collectNVD(Options{SkipInvalid: true}, []byte(strings.Replace(nvdTwo, `"CVE-2024-0002",`, `"CVE-2024-0002" `, 1)))
	asParseError(t, err, ErrSyntax)
}

func TestNVDCountMismatch(t *testing.T) {
	doc := strings.Replace(nvdTwo, `"resultsPerPage": 2, "startIndex": 0, "totalResults": 2`, `"resultsPerPage": 2000, "startIndex": 0, "totalResults": 5000`, 1)
	_, st, err := collectNVD(Options{}, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 2 || len(st.Warnings) != 1 || st.Warnings[0].Code != WarnCountMismatch {
		t.Fatalf("stats %+v", st)
	}
	// The last page of a query holds fewer than resultsPerPage: consistent, no warning.
	doc = strings.Replace(nvdTwo, `"resultsPerPage": 2, "startIndex": 0, "totalResults": 2`, `"resultsPerPage": 2000, "startIndex": 4998, "totalResults": 5000`, 1)
	if _, st, err = collectNVD(Options{}, []byte(doc)); err != nil || len(st.Warnings) != 0 {
		t.Fatalf("last page: %v %+v", err, st.Warnings)
	}
}

func TestNVDNotNVD(t *testing.T) {
	for _, doc := range []string{`{"products": []}`, `[]`, `"x"`, `{}`, ``, `   `} {
		_, _, err := collectNVD(Options{}, []byte(doc))
		var pe *ParseError
		if !errors.As(err, &pe) || !(errors.Is(err, ErrUnknownFormat) || errors.Is(err, ErrTruncated)) {
			t.Errorf("%q: %v", doc, err)
		}
	}
	// A page with no CVEs is fine.
	for _, doc := range []string{`{"vulnerabilities": []}`, `{"vulnerabilities": null}`} {
		if _, st, err := collectNVD(Options{}, []byte(doc)); err != nil || st.Records != 0 {
			t.Errorf("%q: %v %+v", doc, err, st)
		}
	}
}

func TestNVDCallbackErrorAndContext(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	st, err := ParseNVD(context.Background(), strings.NewReader(nvdTwo), func(CVE) error {
		if n++; n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || st.Records != 1 {
		t.Fatalf("err %v, records %d", err, st.Records)
	}

	ctx, cancel := context.WithCancel(context.Background())
	st, err = ParseNVD(ctx, strings.NewReader(nvdTwo), func(CVE) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) || st.Records != 1 {
		t.Fatalf("err %v, records %d", err, st.Records)
	}
	cancel()
	if _, err := ParseNVD(ctx, strings.NewReader(nvdTwo), func(CVE) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled before start: %v", err)
	}
}

// Many elements in one page stream with no per-page growth, and ratings keep their order.
func TestNVDManyElements(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"vulnerabilities":[`)
	const n = 5000
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"cve":{"id":"CVE-2024-%05d","metrics":{"cvssMetricV2":[{"cvssData":{"version":"2.0","vectorString":"AV:N/AC:L/Au:N/C:P/I:P/A:P","baseScore":7.5},"baseSeverity":"HIGH"}],"cvssMetricV40":[{"cvssData":{"version":"4.0","vectorString":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N","baseScore":9.3,"baseSeverity":"CRITICAL"}}]}}}`, i)
	}
	b.WriteString(`]}`)
	i := 0
	st, err := ParseNVD(context.Background(), strings.NewReader(b.String()), func(c CVE) error {
		if c.ID != fmt.Sprintf("CVE-2024-%05d", i) || len(c.CVSS) != 2 || c.CVSS[0].Version != "4.0" || c.CVSS[1].Severity != "HIGH" {
			return fmt.Errorf("record %d: %+v", i, c)
		}
		i++
		return nil
	})
	if err != nil || st.Records != n {
		t.Fatalf("%v, %d records", err, st.Records)
	}
}
