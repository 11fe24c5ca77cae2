package parseutil

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
)

// The fingerprint schemes are part of the stored data: these values (checked with sha256sum of
// `["a","b|c"]` and `a|b\|c`) must never change.
func TestFingerprintsPinned(t *testing.T) {
	if got, want := FingerprintJSON("a", "b|c"), "10781194e477c18062fe1ebc76fc4fac26397da2ac3635deef7155daff3b5ab2"; got != want {
		t.Errorf("FingerprintJSON = %s, want %s", got, want)
	}
	if got, want := FingerprintCanonical("a", "b|c"), "99d628bf0b7bace8f616b5f5d85973a696d513fc84d48c091b6bc2a551de8074"; got != want {
		t.Errorf("FingerprintCanonical = %s, want %s", got, want)
	}
}

func TestCanonicalEscaping(t *testing.T) {
	if Canonical("a|b", `c\`) != `a\|b|c\\` {
		t.Errorf("canonical escaping: %q", Canonical("a|b", `c\`))
	}
	if Canonical("a|", "b") == Canonical("a", "|b") {
		t.Error("distinct field lists give the same string")
	}
}

func TestTruncate(t *testing.T) {
	if Truncate("short", 100) != "short" {
		t.Error("short text changed")
	}
	s := strings.Repeat("é", 100)
	for _, max := range []int{20, 21, 50, 199} {
		got := Truncate(s, max)
		if len(got) > max || !strings.HasSuffix(got, TruncMark) || !utf8.ValidString(got) {
			t.Errorf("Truncate(%d) = %q (%d bytes)", max, got, len(got))
		}
	}
	if got := Cut("abc", 3); got != TruncMark {
		t.Errorf("Cut below the mark's length = %q", got)
	}
	if got := TruncateEllipsis("aé", 2); got != "a…" {
		t.Errorf("TruncateEllipsis = %q", got)
	}
	if got := TruncateEllipsis("abc", 3); got != "abc" {
		t.Errorf("TruncateEllipsis kept = %q", got)
	}
}

func TestUnique(t *testing.T) {
	if got := AppendUnique([]string{"a"}, "", "b", "a", "b", "c"); strings.Join(got, ",") != "a,b,c" {
		t.Errorf("AppendUnique = %v", got)
	}
	var list []string
	for i := 0; i < MaxList+10; i++ {
		list = AddUnique(list, strings.Repeat("x", i+1))
	}
	if len(list) != MaxList {
		t.Errorf("AddUnique kept %d, want %d", len(list), MaxList)
	}
}

func TestIdentifiers(t *testing.T) {
	for in, want := range map[string]string{"cve-2021-44228": "CVE-2021-44228", " CVE-2021-1234 ": "CVE-2021-1234", "CVE-21-1": ""} {
		if got, _ := NormCVE(in); got != want {
			t.Errorf("NormCVE(%q) = %q, want %q", in, got, want)
		}
	}
	if got, _ := NormGHSA("GHSA-AAAA-bbbb-CCCC"); got != "GHSA-aaaa-bbbb-cccc" {
		t.Errorf("NormGHSA = %q", got)
	}
	for in, want := range map[string]string{"CWE-79": "CWE-79", "external/cwe/cwe-079": "CWE-79", "CWE-79: Improper": "CWE-79", "79": ""} {
		if got, _ := NormCWE(in); got != want {
			t.Errorf("NormCWE(%q) = %q, want %q", in, got, want)
		}
	}
	if PurlType("pkg:NPM/%40s/a@1") != "npm" || PurlType("npm/a") != "" {
		t.Error("PurlType")
	}
}

func TestSeverity(t *testing.T) {
	for f, want := range map[float64]importers.Severity{9: importers.Critical, 7: importers.High, 4: importers.Medium, 0.1: importers.Low, 0: importers.Info} {
		if got := SeverityFromScore(f); got != want {
			t.Errorf("SeverityFromScore(%v) = %s, want %s", f, got, want)
		}
	}
	s2, s3a, s3b := 9.0, 5.0, 6.0
	if got, ok := MaxScore([]importers.CVSS{{Version: "2.0", Score: &s2}, {Version: "3.1", Score: &s3a}, {Version: "3.0", Score: &s3b}}); !ok || got != 6 {
		t.Errorf("MaxScore = %v %v, want the highest v3 score", got, ok)
	}
	if SeverityRank(importers.Critical) <= SeverityRank(importers.High) || SeverityRank(importers.Info) != 0 {
		t.Error("SeverityRank")
	}
	for word, want := range map[string]importers.Severity{"critical": importers.Critical, "high": importers.High, "medium": importers.Medium, "low": importers.Low} {
		if got, ok := SeverityWord(word); !ok || got != want {
			t.Errorf("SeverityWord(%q) = %s %v, want %s", word, got, ok, want)
		}
	}
	for _, word := range []string{"High", " high", "moderate", "info", ""} {
		if got, ok := SeverityWord(word); ok {
			t.Errorf("SeverityWord(%q) = %s: the callers normalise and map their own synonyms", word, got)
		}
	}
}

func TestFindingSetMerges(t *testing.T) {
	var s FindingSet
	if s.Findings() == nil {
		t.Error("empty set gives nil")
	}
	s.Add(importers.Finding{Fingerprint: "x", Severity: importers.Low, CVEs: []string{"CVE-1"}, Evidence: "one"})
	s.Add(importers.Finding{Fingerprint: "y"})
	s.Add(importers.Finding{Fingerprint: "x", Severity: importers.High, ScannerSeverity: "H", CVEs: []string{"CVE-2"}, Evidence: "two", Description: "d"})
	got := s.Findings()
	if len(got) != 2 || got[0].Fingerprint != "x" || got[1].Fingerprint != "y" {
		t.Fatalf("findings = %+v", got)
	}
	f := got[0]
	if f.Severity != importers.High || f.ScannerSeverity != "H" || strings.Join(f.CVEs, ",") != "CVE-1,CVE-2" ||
		f.Evidence != "one\n----\ntwo" || f.Description != "d" {
		t.Errorf("merged = %+v", f)
	}
}

func TestParseMACs(t *testing.T) {
	got := ParseMACs("aa-bb-cc-dd-ee-ff\n00:11:22:33:44:55, 0011.2233.4466; nonsense 12:34")
	want := []string{"AA:BB:CC:DD:EE:FF", "00:11:22:33:44:55", "00:11:22:33:44:66"}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}

func TestCWENumber(t *testing.T) {
	for in, want := range map[string]string{"79": "CWE-79", " CWE-079 ": "CWE-79", "cwe:20": "CWE-20", "CWE: 89": "CWE-89",
		"0": "", "-1": "", "1000000": "", "NOCWE": "", "": ""} {
		if got := CWENumber(in); got != want {
			t.Errorf("CWENumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   float64
		none   bool
		errors bool
	}{{" 7.5 ", 7.5, false, false}, {"", 0, true, false}, {"-1", -1, false, false}, {"11", 0, false, true}, {"NaN", 0, false, true}, {"1e400", 0, false, true}, {"n/a", 0, false, true}} {
		got, err := Number(tc.in, -3, 10)
		switch {
		case tc.errors != (err != nil):
			t.Errorf("Number(%q): err %v", tc.in, err)
		case tc.none != (got == nil && err == nil):
			t.Errorf("Number(%q) = %v, want none", tc.in, got)
		case got != nil && *got != tc.want:
			t.Errorf("Number(%q) = %v, want %v", tc.in, *got, tc.want)
		}
	}
}

func TestSeverityWordOrInfo(t *testing.T) {
	for in, want := range map[string]importers.Severity{" High ": importers.High, "CRITICAL": importers.Critical, "None": importers.Info, "Log": importers.Info, "": importers.Info} {
		if got := SeverityWordOrInfo(in); got != want {
			t.Errorf("SeverityWordOrInfo(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestVectorVersion(t *testing.T) {
	for vector, want := range map[string]string{
		"CVSS:3.0/AV:N": "3.0", "CVSS:3.1/AV:N": "3.1", "CVSS:4.0/AV:N": "4.0",
		"AV:N/AC:L/Au:N/C:P/I:P/A:P": "", "": "", "CVSS:3.1": "",
	} {
		if got := VectorVersion(vector); got != want {
			t.Errorf("VectorVersion(%q) = %q, want %q", vector, got, want)
		}
	}
}

// TestNormAll: only the ids norm accepts, normalised, each once, in report order.
func TestNormAll(t *testing.T) {
	got := NormAll([]string{"NVD-CWE-Other", "cwe-079", "CWE-20", "CWE-79: XSS", ""}, NormCWE)
	if strings.Join(got, ",") != "CWE-79,CWE-20" {
		t.Errorf("NormAll = %q", got)
	}
	if got := NormAll(nil, NormCVE); got != nil {
		t.Errorf("NormAll(nil) = %q", got)
	}
}

func TestCVSSVersion(t *testing.T) {
	for _, tc := range []struct{ version, vector, want string }{
		{"3.1", "CVSS:3.1/AV:N", "3.1"}, {"V3", "CVSS:3.0/AV:N", "3.0"}, {"2", "AV:N/AC:L", "2.0"},
		{"CVSS_V2", "", "2.0"}, {"3.1", "", "3.1"}, {"3", "AV:N/AC:L", ""}, {"", "", ""}, {"4.0", "CVSS:4.0/AV:N", "4.0"},
	} {
		if got, ok := CVSSVersion(tc.version, tc.vector); got != tc.want || ok != (tc.want != "") {
			t.Errorf("CVSSVersion(%q, %q) = %q %v, want %q", tc.version, tc.vector, got, ok, tc.want)
		}
	}
}

func TestOccurrencesNumberRepeats(t *testing.T) {
	var o Occurrences
	a1, b, a2, a3 := o.Fingerprint("r", "f", "c"), o.Fingerprint("r", "f", "d"), o.Fingerprint("r", "f", "c"), o.Fingerprint("r", "f", "c")
	if a1 != FingerprintJSON("r", "f", "c") {
		t.Errorf("first occurrence %s is not the identity's own fingerprint", a1)
	}
	if a2 != FingerprintJSON("r", "f", "c", "#2") || a3 != FingerprintJSON("r", "f", "c", "#3") {
		t.Errorf("repeats: %s %s", a2, a3)
	}
	if a1 == b || a1 == a2 || a2 == a3 {
		t.Errorf("fingerprints collide: %s %s %s %s", a1, b, a2, a3)
	}
}

func TestCodeDigestIgnoresIndentation(t *testing.T) {
	if CodeDigest("  os.system(x)\n\n") != CodeDigest("os.system(x)") {
		t.Error("indentation or blank lines change the digest")
	}
	if CodeDigest("os.system(x)") == CodeDigest("os.system(y)") {
		t.Error("different code, same digest")
	}
	if CodeDigest(" \n") != "" {
		t.Error("blank code has a digest")
	}
}
