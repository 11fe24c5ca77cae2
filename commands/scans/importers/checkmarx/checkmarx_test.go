package checkmarx

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// TestWebshopFields checks findings field by field.
func TestWebshopFields(t *testing.T) {
	rep := importertest.ParseFile(t, New(), importertest.File(t, formatName, "checkmarx_9_java_webshop.xml"))
	if rep.ScannerVersion != "9.5.0.2108 HF3" {
		t.Errorf("version %q", rep.ScannerVersion)
	}
	if a := rep.Assets[0]; a.Key != `checkmarx:CxServer\SP\Acme\AppSec\acme-webshop` || a.Kind != importers.Repository {
		t.Errorf("asset %+v", a)
	}
	sqli := importertest.RuleFindings(t, rep, "589", 2)
	f := sqli[0]
	if f.Title != "SQL Injection" || f.Severity != importers.High || len(f.CWEs) != 1 || f.CWEs[0] != "CWE-89" {
		t.Errorf("title %q severity %s CWEs %v", f.Title, f.Severity, f.CWEs)
	}
	// The Result's location, which CxSAST sets to the first node of the path (the source).
	if f.Location != (importers.Location{File: "src/main/java/acme/shop/OrderController.java", Line: 33, Column: 52}) {
		t.Errorf("location %+v", f.Location)
	}
	importertest.Fingerprint(t, f.Fingerprint, "query id + file + similarity id", "checkmarx/v1", "589", "src/main/java/acme/shop/OrderController.java", "-1794386512")
	wantEv := "Data flow, source to sink:\n" +
		"src/main/java/acme/shop/OrderController.java:33 getParameter: String customer = request.getParameter(\"customer\");\n" +
		"src/main/java/acme/shop/OrderDao.java:57 executeQuery: ResultSet rs = stmt.executeQuery(\"SELECT * FROM orders WHERE customer = '\" + customer + \"'\");"
	if f.Evidence != wantEv {
		t.Errorf("evidence %q", f.Evidence)
	}
	if len(f.References) != 1 || !strings.Contains(f.References[0], "pathid=1") || f.Suppressed != nil {
		t.Errorf("references %v suppressed %+v", f.References, f.Suppressed)
	}
	if !strings.Contains(f.Description, "Java_High_Risk") || !strings.Contains(f.Description, "A1-Injection") {
		t.Errorf("description %q", f.Description)
	}
	if fp := sqli[1]; fp.Suppressed == nil || fp.Suppressed.Kind != importers.SuppressedFalsePositive || !strings.Contains(fp.Suppressed.Reason, "parameterised upstream") {
		t.Errorf("false positive: %+v", fp.Suppressed)
	}
	// A Result's own severity wins over its Query's (triaged down to Medium).
	if xss := importertest.RuleFindings(t, rep, "602", 1)[0]; xss.Severity != importers.Medium || xss.ScannerSeverity != "Medium" {
		t.Errorf("XSS severity %s", xss.Severity)
	}
	// Proposed Not Exploitable (state 4) stays open; cweId 0 is no CWE.
	if p := importertest.RuleFindings(t, rep, "4171", 1)[0]; p.Suppressed != nil {
		t.Errorf("proposed not exploitable suppressed: %+v", p.Suppressed)
	}
	if l := importertest.RuleFindings(t, rep, "3311", 1)[0]; l.CWEs != nil {
		t.Errorf("cweId 0 gave %v", l.CWEs)
	}
}

// TestSuppressions: FalsePositive="True" and state 1 suppress, other states do not.
func TestSuppressions(t *testing.T) {
	for attrs, want := range map[string]bool{
		`FalsePositive="True"`: true, `FalsePositive="true" state="0"`: true, `state="1"`: true,
		`FalsePositive="False" state="2"`: false, `state="3"`: false, `state="4"`: false, ``: false,
	} {
		rep := importertest.MustParseString(t, New(), `<CxXMLResults><Query id="1"><Result FileName="a" `+attrs+`/></Query></CxXMLResults>`)
		if got := rep.Findings[0].Suppressed != nil; got != want {
			t.Errorf("%s: suppressed %v, want %v", attrs, got, want)
		}
	}
}

// TestFingerprints: without a similarity id the source and sink code identify a result, not its
// line; two results with one similarity id in one file merge.
func TestFingerprints(t *testing.T) {
	fp := func(line, code string) string {
		return importertest.MustParseString(t, New(), `<CxXMLResults><Query id="1"><Result FileName="a" Line="`+line+`"><Path><PathNode><Name>n</Name><Snippet><Line><Code>`+code+`</Code></Line></Snippet></PathNode></Path></Result></Query></CxXMLResults>`).Findings[0].Fingerprint
	}
	if fp("3", "x()") != fp("30", "x()") {
		t.Error("a moved result changed its fingerprint")
	}
	if fp("3", "x()") == fp("3", "y()") {
		t.Error("other code kept the fingerprint")
	}
	if fp("3", "x()") != parseutil.FingerprintJSON("checkmarx/v1", "1", "a", "", "n", "x()", "n", "x()") {
		t.Error("fallback fingerprint is not query id + file + source and sink")
	}
	rep := importertest.MustParseString(t, New(), `<CxXMLResults><Query id="1"><Result FileName="a" Line="1"><Path SimilarityId="5"/></Result><Result FileName="a" Line="1" Column="40"><Path SimilarityId="5"/></Result><Result FileName="b" Line="1"><Path SimilarityId="5"/></Result></Query></CxXMLResults>`)
	if len(rep.Findings) != 2 {
		t.Errorf("%d findings, want 2 (same similarity id in one file merged, another file kept)", len(rep.Findings))
	}
}

// TestSeverityMapping checks every documented severity word, and the Query's as a fallback.
func TestSeverityMapping(t *testing.T) {
	for word, want := range map[string]importers.Severity{
		"Critical": importers.Critical, "High": importers.High, "Medium": importers.Medium, "Low": importers.Low,
		"Information": importers.Info, "Info": importers.Info, "Odd": importers.Info,
	} {
		rep := importertest.MustParseString(t, New(), `<CxXMLResults><Query id="1" Severity="Low"><Result FileName="a" Severity="`+word+`"/></Query></CxXMLResults>`)
		if rep.Findings[0].Severity != want {
			t.Errorf("%s: %s, want %s", word, rep.Findings[0].Severity, want)
		}
	}
	if f := importertest.MustParseString(t, New(), `<CxXMLResults><Query id="1" Severity="High"><Result FileName="a"/></Query></CxXMLResults>`).Findings[0]; f.Severity != importers.High {
		t.Errorf("query severity not used: %s", f.Severity)
	}
	if info := New().(importers.Describer).Info(); info.Severity["Information"] != importers.Info || info.Severity["Critical"] != importers.Critical {
		t.Errorf("Info severity map %v", info.Severity)
	}
}
