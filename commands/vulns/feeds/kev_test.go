package feeds

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestKEVCatalogue20250825(t *testing.T) {
	entries, st, data := mustCollect(t, collectKEV, "kev", "known_exploited_vulnerabilities_2025.08.25.json")
	// jq '.vulnerabilities|length' known_exploited_vulnerabilities_2025.08.25.json → 1404
	// jq -c '{title,catalogVersion,dateReleased,count}' → {"title":"CISA Catalog of Known Exploited
	//   Vulnerabilities","catalogVersion":"2025.08.25","dateReleased":"2025-08-25T17:04:19.9796Z","count":1404}
	if len(entries) != 1404 || st.Records != 1404 || st.Skipped != 0 || len(st.Warnings) != 0 {
		t.Fatalf("%d entries, stats %+v", len(entries), st)
	}
	wantCat := &KEVCatalog{Title: "CISA Catalog of Known Exploited Vulnerabilities", CatalogVersion: "2025.08.25",
		DateReleased: time.Date(2025, 8, 25, 17, 4, 19, 979600000, time.UTC), Count: 1404}
	if !reflect.DeepEqual(st.KEV, wantCat) {
		t.Errorf("catalogue %+v, want %+v", st.KEV, wantCat)
	}
	if st.Bytes != int64(len(data)) {
		t.Errorf("bytes %d of %d", st.Bytes, len(data))
	}

	var cwes, noCWE, known int
	var log4j *KEVEntry
	for i := range entries {
		e := &entries[i]
		cwes += len(e.CWEs)
		if len(e.CWEs) == 0 {
			noCWE++
		}
		if e.KnownRansomwareCampaignUse == "Known" {
			known++
		}
		if e.CVEID == "CVE-2021-44228" {
			log4j = e
		}
	}
	// jq '[.vulnerabilities[]|.cwes|length]|add' → 1338
	// jq '[.vulnerabilities[]|select(.cwes|length==0)]|length' → 152
	// jq '[.vulnerabilities[]|.knownRansomwareCampaignUse]|group_by(.)|map({(.[0]|tostring):length})|add'
	//   → {"Known":293,"Unknown":1111}
	if cwes != 1338 || noCWE != 152 || known != 293 {
		t.Errorf("cwes %d, without CWE %d, ransomware Known %d; want 1338, 152, 293", cwes, noCWE, known)
	}
	// jq -c '.vulnerabilities[0]|{cveID,dateAdded,dueDate,cwes}' → CVE-2025-48384, 2025-08-25, 2025-09-15, ["CWE-59","CWE-436"]
	// jq -c '.vulnerabilities[-1]|{cveID,dateAdded,dueDate,cwes}' → CVE-2020-29583, 2021-11-03, 2022-05-03, ["CWE-522"]
	first, last := entries[0], entries[len(entries)-1]
	if first.CVEID != "CVE-2025-48384" || first.DateAdded != day(2025, 8, 25) || first.DueDate != day(2025, 9, 15) ||
		!reflect.DeepEqual(first.CWEs, []string{"CWE-59", "CWE-436"}) ||
		first.ShortDescription != "Git contains a link following vulnerability that stems from Git\u2019s inconsistent handling of carriage return characters in configuration files." {
		t.Errorf("first %+v", first)
	}
	if last.CVEID != "CVE-2020-29583" || last.DateAdded != day(2021, 11, 3) || last.DueDate != day(2022, 5, 3) ||
		!reflect.DeepEqual(last.CWEs, []string{"CWE-522"}) {
		t.Errorf("last %+v", last)
	}
	// jq -c '.vulnerabilities[]|select(.cveID=="CVE-2021-44228")'
	want := KEVEntry{
		CVEID:             "CVE-2021-44228",
		VendorProject:     "Apache",
		Product:           "Log4j2",
		VulnerabilityName: "Apache Log4j2 Remote Code Execution Vulnerability",
		DateAdded:         day(2021, 12, 10),
		DueDate:           day(2021, 12, 24),
		ShortDescription:  "Apache Log4j2 contains a vulnerability where JNDI features do not protect against attacker-controlled JNDI-related endpoints, allowing for remote code execution.",
		RequiredAction: "For all affected software assets for which updates exist, the only acceptable remediation actions are: " +
			"1) Apply updates; OR 2) remove affected assets from agency networks. Temporary mitigations using one of the measures " +
			"provided at https://www.cisa.gov/uscert/ed-22-02-apache-log4j-recommended-mitigation-measures are only acceptable until updates are available.",
		KnownRansomwareCampaignUse: "Known",
		Notes:                      "https://nvd.nist.gov/vuln/detail/CVE-2021-44228",
		CWEs:                       []string{"CWE-20", "CWE-400", "CWE-502"},
	}
	if log4j == nil || !reflect.DeepEqual(*log4j, want) {
		t.Errorf("CVE-2021-44228\n got %+v\nwant %+v", log4j, want)
	}
}

func TestKEVSubsetDoesNotTrustCount(t *testing.T) {
	entries, st, _ := mustCollect(t, collectKEV, "kev", "kev_subset_3entries_2025.02.19.json")
	// The catalogue says "count": 1273 but holds 3 entries: a warning, not an error.
	// jq -c '{count, n:(.vulnerabilities|length), ids:[.vulnerabilities[].cveID]}'
	//   → {"count":1273,"n":3,"ids":["CVE-2025-0108","CVE-2024-53704","CVE-2024-57727"]}
	if st.Records != 3 || len(entries) != 3 {
		t.Fatalf("Records %d, want 3", st.Records)
	}
	if st.KEV == nil || st.KEV.Count != 1273 || st.KEV.CatalogVersion != "2025.02.19" ||
		st.KEV.DateReleased != time.Date(2025, 2, 19, 14, 8, 44, 502100000, time.UTC) {
		t.Errorf("catalogue %+v", st.KEV)
	}
	if len(st.Warnings) != 1 || st.Warnings[0].Code != WarnCountMismatch || st.Warnings[0].Record != -1 ||
		!strings.Contains(st.Warnings[0].Msg, "1273") {
		t.Errorf("warnings %+v", st.Warnings)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.CVEID)
	}
	if !reflect.DeepEqual(ids, []string{"CVE-2025-0108", "CVE-2024-53704", "CVE-2024-57727"}) {
		t.Errorf("ids %v", ids)
	}
	// Values are kept as given, trailing space included: jq '.vulnerabilities[2].vendorProject' → "SimpleHelp "
	if e := entries[2]; e.VendorProject != "SimpleHelp " || e.DueDate != day(2025, 3, 6) || !reflect.DeepEqual(e.CWEs, []string{"CWE-22"}) {
		t.Errorf("third %+v", e)
	}
}

func TestKEVSchemaIsNotACatalogue(t *testing.T) {
	data := readShared(t, "kev", "known_exploited_vulnerabilities_schema.json")
	_, st, err := collectKEV(Options{}, data)
	pe := asParseError(t, err, ErrUnknownFormat)
	if pe.Line != 1 || pe.Column != 1 || pe.Offset != 0 || st.Records != 0 {
		t.Errorf("%v, %+v", pe, st)
	}
}

const kevTwo = `{
  "title": "t", "catalogVersion": "2025.01.01", "dateReleased": "2025-01-01T00:00:00.000Z", "count": 2,
  "vulnerabilities": [
    {"cveID": "CVE-2025-0001", "vendorProject": "V", "product": "P", "vulnerabilityName": "N", "dateAdded": "2025-01-01",
     "shortDescription": "S", "requiredAction": "R", "dueDate": "2025-01-22", "knownRansomwareCampaignUse": "Unknown", "notes": "", "cwes": ["CWE-79"]},
    {"cveID": "CVE-2025-0002", "vendorProject": "V", "product": "P", "vulnerabilityName": "N", "dateAdded": "2025-01-01",
     "shortDescription": "S", "requiredAction": "R", "dueDate": "2025-01-22", "knownRansomwareCampaignUse": "Known", "notes": "", "cwes": []}
  ]
}`

func TestKEVRecordErrors(t *testing.T) {
	checkRecordErrors(t, FeedKEV, kevTwo, collectKEV, []recordErrorCase{
		{"bad id", `"CVE-2025-0002"`, `"cve-2025-0002"`, ErrInvalidValue, "vulnerabilities[1].cveID", 1, 6},
		{"bad due date", `"2025-01-22", "knownRansomwareCampaignUse": "Known"`, `"2025-02-30", "knownRansomwareCampaignUse": "Known"`, ErrInvalidValue, "vulnerabilities[1].dueDate", 1, 6},
		{"missing product", `"product": "P", "vulnerabilityName": "N", "dateAdded": "2025-01-01",
     "shortDescription": "S", "requiredAction": "R", "dueDate": "2025-01-22", "knownRansomwareCampaignUse": "Known"`, `"vulnerabilityName": "N", "dateAdded": "2025-01-01",
     "shortDescription": "S", "requiredAction": "R", "dueDate": "2025-01-22", "knownRansomwareCampaignUse": "Known"`, ErrInvalidValue, "vulnerabilities[1].product", 1, 6},
		{"bad cwe", `"cwes": ["CWE-79"]`, `"cwes": ["XSS"]`, ErrInvalidValue, "vulnerabilities[0].cwes[0]", 0, 4},
		{"cwes not array", `"cwes": ["CWE-79"]`, `"cwes": "CWE-79"`, ErrInvalidValue, "vulnerabilities[0].cwes", 0, 5},
		{"bad release date", `"2025-01-01T00:00:00.000Z"`, `"soon"`, ErrInvalidValue, "dateReleased", -1, 2},
		{"count not a number", `"count": 2`, `"count": "2"`, ErrInvalidValue, "count", -1, 2},
		{"element not an object", `{"cveID": "CVE-2025-0001"`, `7, {"cveID": "CVE-2025-0001"`, ErrInvalidValue, "vulnerabilities[0]", 0, 4},
	})
}

func TestKEVWarnings(t *testing.T) {
	doc := strings.Replace(kevTwo, `"Known"`, `"Suspected"`, 1)
	doc = strings.Replace(doc, `"count": 2,`, ``, 1)
	entries, st, err := collectKEV(Options{}, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].KnownRansomwareCampaignUse != "Suspected" || st.KEV.Count != -1 {
		t.Fatalf("%+v %+v", entries, st.KEV)
	}
	codes := map[string]int{}
	for _, w := range st.Warnings {
		codes[w.Code]++
	}
	if codes[WarnUnusualValue] != 1 || codes[WarnMissingField] != 1 || len(st.Warnings) != 2 {
		t.Errorf("warnings %+v", st.Warnings)
	}

	// SkipInvalid: the bad entry is skipped and counted; the count check counts entries, not records.
	doc = strings.Replace(kevTwo, `"CVE-2025-0001"`, `"CVE-2025-1"`, 1)
	entries, st, err = collectKEV(Options{SkipInvalid: true, MaxWarnings: 1}, []byte(doc))
	if err != nil || len(entries) != 1 || st.Skipped != 1 || st.Records != 1 {
		t.Fatalf("%v %+v %+v", err, entries, st)
	}
	if len(st.Warnings) != 1 || st.Warnings[0].Code != WarnSkippedRecord || st.WarningsDropped != 0 {
		t.Errorf("warnings %+v dropped %d", st.Warnings, st.WarningsDropped)
	}
}

func TestKEVCallbackError(t *testing.T) {
	stop := errors.New("stop")
	st, err := ParseKEV(context.Background(), strings.NewReader(kevTwo), func(KEVEntry) error { return stop })
	if err != stop || st.Records != 0 {
		t.Fatalf("%v %+v", err, st)
	}
}
