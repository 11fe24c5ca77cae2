package query

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// text, phrase and field build the clauses the tables expect.
func text(pos int, v string) Clause { return Clause{Field: FieldText, Values: []string{v}, Pos: pos} }
func phrase(pos int, v string) Clause {
	return Clause{Field: FieldText, Values: []string{v}, Phrase: true, Pos: pos}
}
func field(pos int, f Field, vs ...string) Clause {
	return Clause{Field: f, Values: vs, Pos: pos}
}
func not(c Clause) Clause        { c.Negate = true; return c }
func cmp(c Clause, op Op) Clause { c.Op = op; return c }
func clauses(cs ...Clause) Query { return Query{Clauses: cs} }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want Query
	}{
		{"", Query{}},
		{" \t\n ", Query{}},
		// free text
		{"log4j", clauses(text(0, "log4j"))},
		{"log4j on production", clauses(text(0, "log4j"), text(6, "on"), text(9, "production"))},
		{"  log4j-core  ", clauses(text(2, "log4j-core"))},
		{"Überprüfung 東京", clauses(text(0, "Überprüfung"), text(14, "東京"))},
		{`"remote code execution"`, clauses(phrase(0, "remote code execution"))},
		{`"say \"hi\" \\ C:\temp"`, clauses(phrase(0, `say "hi" \ C:\temp`))},
		{`foo"bar baz"qux`, clauses(text(0, "foo"), phrase(3, "bar baz"), text(12, "qux"))},
		{"-log4j", clauses(not(text(0, "log4j")))},
		{`-"read only"`, clauses(not(phrase(0, "read only")))},
		{"--log4j", clauses(not(text(0, "-log4j")))},
		// words and phrases without a letter or digit, a lone "-", AND: no clause
		{`-- && - "..." -"!" x AND y`, clauses(text(19, "x"), text(25, "y"))},
		{"AND", Query{}},
		{"½ Ⅻ", clauses(text(0, "½"), text(3, "Ⅻ"))},
		{"and or not", clauses(text(0, "and"), text(4, "or"), text(7, "not"))},
		{`"OR" -AND`, clauses(phrase(0, "OR"), not(text(5, "AND")))},
		// words with a colon that stay free text
		{"http://example.com/a?b=c", clauses(text(0, "http://example.com/a?b=c"))},
		{"host://x", clauses(text(0, "host://x"))},
		{`C:\Windows\system32`, clauses(text(0, `C:\Windows\system32`))},
		{"c:/tmp", clauses(text(0, "c:/tmp"))},
		{"fe80::1", clauses(text(0, "fe80::1"))},
		{"cafe::/16 ace:beef::1", clauses(text(0, "cafe::/16"), text(10, "ace:beef::1"))},
		{"10.0.0.1:8080 [::1]:443", clauses(text(0, "10.0.0.1:8080"), text(14, "[::1]:443"))},
		{"aa:bb:cc:dd:ee:ff time:12:30 urn:a:b", clauses(text(0, "aa:bb:cc:dd:ee:ff"), text(18, "time:12:30"), text(29, "urn:a:b"))},
		{"CVE-2021-44228: sha256:abc", clauses(text(0, "CVE-2021-44228:"), text(16, "sha256:abc"))},
		{"note: re:hello user:alice :-) :x to:x", clauses(text(0, "note:"), text(6, "re:hello"), text(15, "user:alice"), text(30, ":x"), text(33, "to:x"))},
		{"pkg:npm/lodash@4.17.21 pkg:maven/org.apache/log4j", clauses(text(0, "pkg:npm/lodash@4.17.21"), text(23, "pkg:maven/org.apache/log4j"))},
		{"port:443 path:x case:1 c:x i:x", clauses(text(0, "port:443"), text(9, "path:x"), text(16, "case:1"), text(23, "c:x"), text(27, "i:x"))},
		{`note:"x y"`, clauses(text(0, "note:"), phrase(5, "x y"))},
		// fields, case-insensitive names, aliases
		{"cve:CVE-2021-44228", clauses(field(0, FieldCVE, "CVE-2021-44228"))},
		{"CVE:cve-2021-44228", clauses(field(0, FieldCVE, "CVE-2021-44228"))},
		{"cve:CVE-2024-1234567", clauses(field(0, FieldCVE, "CVE-2024-1234567"))},
		{"cwe:CWE-79 cwe:79 cwe:cwe-0089", clauses(field(0, FieldCWE, "CWE-79"), field(11, FieldCWE, "CWE-79"), field(18, FieldCWE, "CWE-89"))},
		{"Severity:CRITICAL,High", clauses(field(0, FieldSeverity, "critical", "high"))},
		{"status:Open", clauses(field(0, FieldStatus, "Open"))},
		{"-status:closed", clauses(not(field(0, FieldStatus, "closed")))},
		{"asset:web-1", clauses(field(0, FieldAsset, "web-1"))},
		{`asset:"web server 1"`, clauses(field(0, FieldAsset, "web server 1"))},
		{`asset:web-1,"web server 2",db`, clauses(field(0, FieldAsset, "web-1", "web server 2", "db"))},
		{`asset:">x",a\b`, clauses(field(0, FieldAsset, ">x", `a\b`))},
		{`asset:"a"b`, clauses(field(0, FieldAsset, "a"), text(9, "b"))},
		{`asset:a"b"`, clauses(field(0, FieldAsset, "a"), phrase(7, "b"))},
		{"host:db-1.example.com hostname:DB-2", clauses(field(0, FieldHost, "db-1.example.com"), field(22, FieldHost, "DB-2"))},
		{"package:log4j-core pkg:openssl", clauses(field(0, FieldPackage, "log4j-core"), field(19, FieldPackage, "openssl"))},
		{"kev:TRUE kev:false", clauses(field(0, FieldKEV, "true"), field(9, FieldKEV, "false"))},
		{"team:platform", clauses(field(0, FieldTeam, "platform"))},
		{"environment:production env:staging", clauses(field(0, FieldEnvironment, "production"), field(23, FieldEnvironment, "staging"))},
		{"kind:container_image", clauses(field(0, FieldKind, "container_image"))},
		{"scanner:trivy", clauses(field(0, FieldScanner, "trivy"))},
		{"tag:pci,dmz", clauses(field(0, FieldTag, "pci", "dmz"))},
		{"actor:user:alice", clauses(field(0, FieldActor, "user:alice"))},
		{"event:FindingTriaged", clauses(field(0, FieldEvent, "FindingTriaged"))},
		{"type:findings,asset is:CVEs type:Event", clauses(field(0, FieldType, "finding", "asset"), field(20, FieldType, "cve"), field(28, FieldType, "event"))},
		// ip: canonical text, ranges masked, IPv4-mapped as IPv4
		{"ip:10.0.0.0/8", clauses(field(0, FieldIP, "10.0.0.0/8"))},
		{"ip:10.1.2.3/8,192.168.1.7", clauses(field(0, FieldIP, "10.0.0.0/8", "192.168.1.7"))},
		{"ip:FE80:0:0:0:0:0:0:1 ip:2001:DB8::/32", clauses(field(0, FieldIP, "fe80::1"), field(22, FieldIP, "2001:db8::/32"))},
		{"ip:::ffff:10.0.0.1 ip:::ffff:10.0.0.0/104 ip:::ffff:0:0/80", clauses(field(0, FieldIP, "10.0.0.1"), field(19, FieldIP, "10.0.0.0/8"), field(42, FieldIP, "::/80"))},
		// numbers and comparisons
		{"cvss:9.8", clauses(field(0, FieldCVSS, "9.8"))},
		{"cvss:>=9 cvss:<4.0 epss:>0.5 epss:<=.25 cvss:10,0", clauses(cmp(field(0, FieldCVSS, "9"), OpGE), cmp(field(9, FieldCVSS, "4.0"), OpLT),
			cmp(field(19, FieldEPSS, "0.5"), OpGT), cmp(field(29, FieldEPSS, ".25"), OpLE), field(40, FieldCVSS, "10", "0"))},
		{`-cvss:>"7"`, clauses(not(cmp(field(0, FieldCVSS, "7"), OpGT)))},
		// everything together
		{`log4j -status:closed severity:critical,high AND ip:10.0.0.0/8 "remote code"`, clauses(
			text(0, "log4j"), not(field(6, FieldStatus, "closed")), field(21, FieldSeverity, "critical", "high"),
			field(48, FieldIP, "10.0.0.0/8"), phrase(62, "remote code"))},
	} {
		got, err := Parse(tc.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.q, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q)\n got %+v\nwant %+v", tc.q, got.Clauses, tc.want.Clauses)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		q          string
		pos        int
		msg        string // a part of the message
		suggestion string
	}{
		// misspelt fields: Pos is the field's
		{"sevrity:critical", 0, `unknown field "sevrity"`, "severity"},
		{"log4j -Sevirty:high", 7, `unknown field "Sevirty"`, "severity"},
		{"sev:high", 0, `unknown field "sev"`, "severity"},
		{"stat:open", 0, `unknown field "stat"`, "status"},
		{"hosts:a", 0, `unknown field "hosts"`, "host"},
		{"ips:10.0.0.1", 0, `unknown field "ips"`, "ip"},
		{"pi:10.0.0.1", 0, `unknown field "pi"`, "ip"},
		{"id:x", 0, `unknown field "id"`, "ip"},
		{"hsot:db", 0, `unknown field "hsot"`, "host"},
		{"kevv:true", 0, `unknown field "kevv"`, "kev"},
		{"stauts:open", 0, `unknown field "stauts"`, "status"},
		{"tga:pci", 0, `unknown field "tga"`, "tag"},
		{"evn:prod", 0, `unknown field "evn"`, "environment"},
		{"pakage:x", 0, `unknown field "pakage"`, "package"},
		{`enviroment:"a b"`, 0, `unknown field "enviroment"`, "environment"},
		// values
		{"severity:", 9, "severity: missing value", ""},
		{"severity: critical", 9, "severity: missing value", ""},
		{"severity:critical,", 18, "severity: missing value", ""},
		{"severity:,high", 9, "severity: missing value", ""},
		{`asset:""`, 6, "asset: missing value", ""},
		{"cvss:>=", 7, "cvss: missing value", ""},
		{"severity:critcal", 9, `severity: "critcal" is not a severity`, "critical"},
		{"severity:high,crit", 14, `"crit" is not a severity`, "critical"},
		{"severity:hgih", 9, `"hgih" is not a severity`, "high"},
		{"severity:informational", 9, `"informational" is not a severity`, ""},
		{"severity:urgent", 9, `"urgent" is not a severity`, ""},
		{"type:findngs", 5, `"findngs" is not a document type`, "finding"},
		{"is:vuln", 3, `type: "vuln" is not a document type`, ""},
		{"kev:ture", 4, `kev: "ture" is not true or false`, "true"},
		{"kev:yes", 4, `"yes" is not true or false`, "true"},
		{"kev:No", 4, `"No" is not true or false`, "false"},
		{"kev:maybe", 4, `"maybe" is not true or false`, ""},
		{"cve:log4shell", 4, `cve: "log4shell" is not a CVE id`, ""},
		{"cve:2021-44228", 4, `"2021-44228" is not a CVE id`, "CVE-2021-44228"},
		{"cve:CVE-21-44228", 4, "is not a CVE id", ""},
		{"cve:CVE-2021-442", 4, "is not a CVE id", ""},
		{"cwe:XSS", 4, `cwe: "XSS" is not a CWE id`, ""},
		{"cwe:CWE-", 4, "is not a CWE id", ""},
		{"ip:10.0.0.0/33", 3, `ip: "10.0.0.0/33" is not an IP address or CIDR range`, ""},
		{"ip:10.0.0.1,web-1", 12, `"web-1" is not an IP address`, ""},
		{"ip:fe80::1%eth0", 3, "is not an IP address", ""},
		{"cvss:11", 5, `cvss: "11" is not a number from 0 to 10`, ""},
		{"cvss:>high", 6, `"high" is not a number`, ""},
		{"cvss:-1 cvss:1e1 cvss:NaN", 5, "is not a number", ""},
		{"cvss:1e1", 5, "is not a number", ""},
		{"cvss:Inf", 5, "is not a number", ""},
		{"epss:1.5", 5, `epss: "1.5" is not a number from 0 to 1`, ""},
		{"epss:0.5.1", 5, "is not a number", ""},
		{"severity:>=high", 9, "severity: comparison >= only applies to cvss and epss", ""},
		{"x -asset:<web", 9, "asset: comparison < only applies", ""},
		// quotes
		{`log4j "remote code`, 6, "unterminated quote", ""},
		{`asset:"web`, 6, "unterminated quote", ""},
		{`"escaped end\"`, 0, "unterminated quote", ""},
		// keywords
		{"severity:critical OR severity:high", 18, "OR is not an operator", "severity:critical,high"},
		{"cvss:>9 || cvss:>8,7", 8, "OR is not an operator", "cvss:>9,8,7"},
		{"log4j OR log4shell", 6, "OR is not an operator", ""},
		{"severity:critical OR -severity:high", 18, "OR is not an operator", ""},
		{"severity:critical OR status:open", 18, "OR is not an operator", ""},
		{"OR", 0, "OR is not an operator", ""},
		{"log4j NOT status:closed", 6, "NOT is not an operator", "-status:closed"},
		{`NOT "read only"`, 0, "NOT is not an operator", `-"read only"`},
		{"NOT -x", 0, "NOT is not an operator", ""},
		{"NOT", 0, "NOT is not an operator", ""},
	} {
		_, err := Parse(tc.q)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *ParseError", tc.q, err)
			continue
		}
		if pe.Pos != tc.pos || !strings.Contains(pe.Msg, tc.msg) || pe.Suggestion != tc.suggestion {
			t.Errorf("Parse(%q) = %+v, want Pos %d, Msg with %q, Suggestion %q", tc.q, *pe, tc.pos, tc.msg, tc.suggestion)
		}
	}
}

func TestParseErrorText(t *testing.T) {
	_, err := Parse("sevrity:high")
	if want := `unknown field "sevrity"; did you mean severity?`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestParseBounds(t *testing.T) {
	long := strings.Repeat("a", MaxLength)
	if _, err := Parse(long); err != nil {
		t.Errorf("Parse of %d bytes: %v", MaxLength, err)
	}
	assertPos := func(q string, pos int, msg string) {
		t.Helper()
		_, err := Parse(q)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Pos != pos || !strings.Contains(pe.Msg, msg) {
			t.Errorf("Parse(%.40q…) = %v, want a *ParseError at %d with %q", q, err, pos, msg)
		}
	}
	assertPos(long+"a", MaxLength, "longer than 1024 bytes")

	words := strings.Repeat("ab ", MaxClauses)
	if q, err := Parse(words + "-- AND"); err != nil || len(q.Clauses) != MaxClauses {
		t.Errorf("Parse of %d clauses: %d clauses, %v", MaxClauses, len(q.Clauses), err)
	}
	assertPos(words+"-- AND -cd", len(words)+7, "more than 32 clauses")

	values := "tag:" + strings.Repeat("v,", MaxValues-1) + "v"
	if q, err := Parse(values); err != nil || len(q.Clauses[0].Values) != MaxValues {
		t.Errorf("Parse of %d values: %v", MaxValues, err)
	}
	assertPos(values+`,"w"`, len(values)+1, "tag: more than 32 values")

	assertPos("log4j \xff", 6, "not valid UTF-8")
	assertPos(`"a`+"\xe2\x82", 2, "not valid UTF-8")
}

func TestString(t *testing.T) {
	for _, tc := range []struct{ q, want string }{
		{"", ""},
		{"  log4j   on\tproduction ", "log4j on production"},
		{`"remote  code" -"a \"b\" \\ c"`, `"remote  code" -"a \"b\" \\ c"`},
		{"Severity:CRITICAL,High -STATUS:closed", "severity:critical,high -status:closed"},
		{"env:prod pkg:openssl hostname:db is:findings", "environment:prod package:openssl host:db type:finding"},
		{`asset:"web server 1",'x',"a,b",">c","//d" actor:user:alice`, `asset:"web server 1",'x',"a,b",">c","//d" actor:user:alice`},
		{"cwe:79 cve:cve-2021-44228 ip:10.1.2.3/8 kev:TRUE", "cwe:CWE-79 cve:CVE-2021-44228 ip:10.0.0.0/8 kev:true"},
		{`cvss:>=9.0 -epss:<.5 cvss:"7"`, "cvss:>=9.0 -epss:<.5 cvss:7"},
		{"http://x fe80::1 --x note:", "http://x fe80::1 --x note:"},
		{"a AND b -- c", "a b c"},
	} {
		q, err := Parse(tc.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.q, err)
			continue
		}
		if got := q.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.q, got, tc.want)
		}
		assertRoundTrip(t, tc.q, q)
	}
}

// TestStringOfOtherQueries: clauses Parse does not produce render as text that parses to the
// clause they mean (free text that would read as something else is quoted).
func TestStringOfOtherQueries(t *testing.T) {
	for _, tc := range []struct {
		q    Query
		want string
	}{
		{clauses(text(0, "severity:high")), `"severity:high"`},
		{clauses(text(0, "OR"), text(0, "-x"), text(0, "a b"), text(0, "sevrity:x")), `"OR" "-x" "a b" "sevrity:x"`},
		{clauses(not(text(0, "-x")), not(text(0, "AND"))), `--x -AND`},
		{clauses(Clause{Field: FieldText, Values: []string{"a", "b"}}), "a b"},
	} {
		if got := tc.q.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// assertRoundTrip checks that q, parsed from s, reads back from its String unchanged but for
// the clauses' positions.
func assertRoundTrip(t *testing.T, s string, q Query) {
	t.Helper()
	text := q.String()
	back, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q) = %+v, whose String %q does not parse: %v", s, q, text, err)
	}
	if !reflect.DeepEqual(withoutPos(back), withoutPos(q)) {
		t.Fatalf("Parse(%q) = %+v\nString %q parses to %+v", s, q, text, back)
	}
	if again := back.String(); again != text {
		t.Fatalf("Parse(%q).String() = %q, but %q again", s, text, again)
	}
}

func withoutPos(q Query) Query {
	out := Query{Clauses: append([]Clause(nil), q.Clauses...)}
	for i := range out.Clauses {
		out.Clauses[i].Pos = 0
	}
	return out
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"", "abc", 3}, {"severity", "severity", 0}, {"sevrity", "severity", 1},
		{"sevirty", "severity", 2}, {"ca", "ac", 1}, {"kitten", "sitting", 3}, {"ü", "u", 1},
	} {
		if got := distance(tc.a, tc.b); got != tc.d {
			t.Errorf("distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.d)
		}
	}
}

// FuzzParse: Parse never panics, fails only with a *ParseError inside q, and what it parses
// reads back from its String (seeds in testdata/fuzz/FuzzParse).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"log4j severity:critical,high -status:closed", `asset:"web 1" "a \" b"`, "ip:::ffff:10.0.0.0/104 cvss:>=9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Pos < 0 || pe.Pos > len(s) || pe.Msg == "" {
				t.Fatalf("Parse(%q): %#v", s, err)
			}
			return
		}
		for _, c := range q.Clauses {
			if c.Pos < 0 || c.Pos >= len(s) || len(c.Values) == 0 || len(c.Values) > MaxValues {
				t.Fatalf("Parse(%q): clause %+v", s, c)
			}
		}
		if len(q.Clauses) > MaxClauses {
			t.Fatalf("Parse(%q): %d clauses", s, len(q.Clauses))
		}
		if len(q.String()) > MaxLength {
			// canonical names and values can be longer than typed (env:x); only the bound
			// may then refuse the text
			if _, err := Parse(q.String()); err == nil || !strings.Contains(err.Error(), "longer than") {
				t.Fatalf("Parse(%q).String() is %d bytes: %v", s, len(q.String()), err)
			}
			return
		}
		assertRoundTrip(t, s, q)
	})
}
