package github

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
)

type want struct {
	assets     int
	sev        map[importers.Severity]int
	suppressed map[importers.SuppressionKind]int
}

// Counts computed with jq, one line per alert (severity as the parser reads it: security
// severity, else rule severity, else advisory severity; state and dismissed reason for the
// suppression; the repository for the assets):
//
//	jq -c '[.[] | {n: .number, s: .state, sev: (.rule.security_severity_level // .rule.severity // .security_advisory.severity),
//	  r: .dismissed_reason, repo: (.repository.full_name // (.html_url|split("/")[3:5]|join("/")))}]' API_FILE
//	jq -c '{n: .alert.number, s: .alert.state, sev: (.alert.rule.security_severity_level // .alert.rule.severity // .alert.security_advisory.severity),
//	  r: .alert.dismissed_reason, repo: .repository.full_name}' WEBHOOK_FILE
var files = map[string]want{
	// {"n":10,"s":"dismissed","sev":"error","r":"false positive","repo":"Codertocat/Hello-World"}
	"code_scanning_alert_webhook_closed_by_user.json": {1, map[importers.Severity]int{importers.High: 1}, map[importers.SuppressionKind]int{importers.SuppressedFalsePositive: 1}},
	// {"n":10,"s":"open","sev":"error","r":null,"repo":"Codertocat/Hello-World"}
	"code_scanning_alert_webhook_created.json": {1, map[importers.Severity]int{importers.High: 1}, nil},
	// {"n":20,"s":"open","sev":"medium","r":null,"repo":"wolfy1339/pika-pack"}
	"dependabot_alert_webhook_created.json": {1, map[importers.Severity]int{importers.Medium: 1}, nil},
	// {"n":1,"s":"fixed","sev":"medium","r":null,"repo":"octocat/hello-world"}
	"dependabot_alert_webhook_fixed.json": {1, map[importers.Severity]int{importers.Medium: 1}, map[importers.SuppressionKind]int{importers.SuppressedResolved: 1}},
	// [{"n":4,"s":"open","sev":"high"},{"n":3,"s":"dismissed","sev":"medium","r":"used in tests"},
	//  {"n":1,"s":"fixed","sev":"note"}], all "acme-corp/payments-api"
	"github_api_code_scanning_alerts.json": {1, map[importers.Severity]int{importers.High: 1, importers.Medium: 1, importers.Low: 1},
		map[importers.SuppressionKind]int{importers.SuppressedNotAffected: 1, importers.SuppressedResolved: 1}},
	// [{"n":7,"s":"open","sev":"high","repo":"acme-corp/ledger"},{"n":2,"s":"dismissed","sev":"critical","r":"tolerable_risk","repo":"acme-corp/storefront"},
	//  {"n":3,"s":"auto_dismissed","sev":"moderate","r":null,"repo":"acme-corp/storefront"}]
	"github_api_org_dependabot_alerts.json": {2, map[importers.Severity]int{importers.Critical: 1, importers.High: 1, importers.Medium: 1},
		map[importers.SuppressionKind]int{importers.SuppressedAccepted: 2}},
	// GraphQL search answer: jq -c '[.data.search.nodes[] | {repo: (.nameWithOwner // .name)} + (.vulnerabilityAlerts.nodes[] |
	//   {n: .number, s: (.state // (if .dismissedAt then "dismissed" else null end)), sev: .securityVulnerability.severity})]'
	// [{"repo":"acme-corp/web","n":"3","s":"OPEN","sev":"MODERATE"},{"repo":"acme-corp/web","n":null,"s":"FIXED","sev":"CRITICAL"},
	//  {"repo":"api","n":null,"s":"dismissed","sev":"LOW"}]
	"github_graphql_vulnerability_alerts.json": {2, map[importers.Severity]int{importers.Critical: 1, importers.Medium: 1, importers.Low: 1},
		map[importers.SuppressionKind]int{importers.SuppressedResolved: 1, importers.SuppressedAccepted: 1}},
}

func check(t *testing.T, rep *importers.Report, w want) {
	n := 0
	for _, c := range w.sev {
		n += c
	}
	importertest.Counts(t, rep, w.assets, n, w.sev, "jq above")
	got := map[importers.SuppressionKind]int{}
	for _, f := range rep.Findings {
		if f.Suppressed != nil {
			got[f.Suppressed.Kind]++
		}
	}
	if len(got) != len(w.suppressed) {
		t.Errorf("suppressions %v, want %v", got, w.suppressed)
	}
	for k, c := range w.suppressed {
		if got[k] != c {
			t.Errorf("suppressions %v, want %v", got, w.suppressed)
		}
	}
	for _, a := range rep.Assets {
		if a.Kind != importers.Repository || !strings.HasPrefix(a.RepoURL, "https://github.com/") {
			t.Errorf("asset %+v: want a repository with its URL", a)
		}
	}
}

const codeAlert = `{"number": 1, "state": "open", "html_url": "https://github.com/o/r/security/code-scanning/1", "rule": {"id": "js/x", "severity": "error"}, "tool": {"name": "CodeQL"}}`

const depAlert = `{"number": 2, "state": "open", "html_url": "https://github.com/o/r/security/dependabot/2", "security_advisory": {"ghsa_id": "GHSA-aaaa-bbbb-cccc", "severity": "high"}, "dependency": {"package": {"ecosystem": "npm", "name": "p"}}}`

var spec = importertest.Spec{
	Format:     formatName,
	Positioned: true,
	Golden:     importertest.Golden(importertest.Table(files, check)),
	Detect: map[string]bool{
		`[` + codeAlert + `]`: true,
		`[` + depAlert + `]`:  true,
		`{"action": "created", "alert": ` + depAlert + `, "repository": {"full_name": "o/r"}}`:   true,
		`[{"number": 1, "security_advisory": {"ghsa_id": "GHSA-aaaa-bbbb-cccc", "descr`:          true,
		`{"data": {"repository": {"vulnerabilityAlerts": {"nodes": [{"id": "x"}]}}}}`:            true,
		`{"data": {"search": {"nodes": [{"name": "r", "vulnerabilityAlerts": {"nodes": []}}]}}}`: true,
		`{"data": {"repository": {"issues": {"nodes": []}}}}`:                                    false,
		`[]`:                                   false,
		`{"alert": ` + depAlert + `}`:          false,
		`[{"number": 1, "rule": {"id": "x"}}]`: false,
		`[{"security_advisory": {}}]`:          false,
		`{"action": "created", "alert": {"number": 1, "secret": ""}}`: false,
		`not json`: false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: ``, Msg: "end of input", Line: 1},
		{Name: "not an object", In: `"x"`, Msg: "expected an object", Line: 1},
		{Name: "no alert", In: `{"action": "created", "repository": {}}`, Msg: "no alert", Line: 1},
		{Name: "GraphQL answer without a repository", In: `{"data": {"viewer": {"login": "x"}}}`, Msg: "no alert", Line: 1},
		{Name: "GraphQL alerts not a list", In: "{\"data\": {\"repository\": {\"vulnerabilityAlerts\":\n{\"nodes\": 3}}}}", Msg: "array", Line: 2},
		{Name: "truncated", In: "[\n" + codeAlert[:40], Msg: "end of input", Line: 2},
		{Name: "syntax", In: "[\n\n{\"number\" 1}]", Msg: "invalid character", Line: 3},
		{Name: "wrong type", In: "[\n{\"number\": \"one\", \"rule\": {\"id\": \"x\"}}]", Msg: "number", Line: 2},
		{Name: "bad repository", In: "{\"action\": \"x\", \"alert\": {},\n\"repository\": []}", Msg: "JSON array", Line: 2},
		{Name: "score out of range", In: "[\n{\"security_advisory\": {\"cvss\": {\"score\": 12}}}]", Msg: "[0, 10]", Line: 2},
		{Name: "invalid UTF-8", In: "{\"action\": \"created\",\n \"x\": \"\xc3\x28\", \"alert\": {}}", Msg: "UTF-8", Line: 2},
		{Name: "trailing data", In: "[]\n]", Msg: "after the report", Line: 2},
	},
	TruncateFile:  "github_api_code_scanning_alerts.json",
	TruncateEvery: 71,
	Nesting:       importertest.JSONNesting(`[{"number": 1, "rule": `),
	Bounded: []importertest.Stream{
		{Name: "unknown string", Prefix: `{"action": "created", "x": "`, Pattern: "0123456789abcdef", Suffix: `", "alert": ` + depAlert + `}`},
		{Name: "sender", Prefix: `{"action": "created", "alert": ` + codeAlert + `, "sender": [`, Pattern: `{"a":[1,-2.5e3,"s\u00e9",true]},`, Suffix: `0]}`},
		{Name: "advisory description", Prefix: `[{"number": 1, "security_advisory": {"ghsa_id": "GHSA-aaaa-bbbb-cccc", "description": "`, Pattern: `0123456789abcd\\`, Suffix: `"}}]`, Msg: "strings longer than"},
	},
	Limits:    func(l importertest.Limits) importers.Parser { return &Parser{jsonguard.Limits(l)} },
	OverLimit: `[` + codeAlert + `, {"x": "` + strings.Repeat("a", 2000) + `"}]`,
	Cancelled: `[` + codeAlert + `]`,
	CancelStreams: []importertest.Stream{{
		Name:    "while reading alerts",
		Prefix:  `[` + codeAlert,
		Pattern: "," + codeAlert,
		Size:    20000 * int64(len(","+codeAlert)),
		Suffix:  `]`,
	}},
}

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, spec.FuzzParser, spec,
		`[`+codeAlert+`,`+depAlert+`]`,
		`{"action":"fixed","alert":`+depAlert+`,"repository":{"full_name":"o/r","html_url":"https://github.com/o/r"}}`,
		`[{"number":3,"state":"dismissed","dismissed_reason":"won't fix","rule":{"id":"r","security_severity_level":"critical","tags":["external/cwe/cwe-079"]},"most_recent_instance":{"location":{"path":"a.js","start_line":3}}}]`,
		`[{"number":4,"state":"auto_dismissed","url":"https://api.github.com/repos/o/r/dependabot/alerts/4","security_advisory":{"cvss":{"vector_string":null,"score":0},"cvss_severities":{"cvss_v4":{"vector_string":"CVSS:4.0/AV:N","score":9.1}}}}]`,
		`[{"number":5,"secret_type":"x"}]`,
		`[[[[`,
	)
}

// BenchmarkParse parses the largest GitHub alerts test file and reports findings per
// second beside MB/s.
//
// Its baseline is the floor the parser is measured against: encoding/json
// unmarshalling the same file into an untyped value.
func BenchmarkParse(b *testing.B) {
	importertest.BenchVsBaseline(b, New, importertest.Largest(b, formatName), importertest.BenchJSONBaseline)
}
