package trivyoperator

import (
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// golden is what each Trivy Operator file holds. Findings are the vulnerabilities,
// yq -c '.report.vulnerabilities | length' (lists: jq '[.items[].report.vulnerabilities[]] | length',
// then one per image, id, package and version), plus the failed checks,
// yq -c '[.report.checks[] | select(.success == false)] | length' (lists:
// '[.items[].report.checks[]? | select(.success == false)] | length'); assets the distinct
// images (digest, else tag) and workloads; severities
// yq -c '[.report.checks[] | select(.success == false) | .severity] | group_by(.) | map({(.[0]): length}) | add'.
type golden struct {
	findings, assets int
	sev              map[importers.Severity]int
	// warnings: resources of kinds not imported.
	warnings int
}

var goldenFiles = map[string]golden{
	"configauditreport_pod.yaml":       {13, 1, map[importers.Severity]int{importers.High: 1, importers.Medium: 3, importers.Low: 9}, 0},
	"vulnerabilityreport_coredns.yaml": {1, 1, map[importers.Severity]int{importers.High: 1}, 0},
	// 3 vulnerabilities; CVE-2023-38545 is in one image digest run by two workloads: 2 findings.
	"vulnerabilityreports_list.json": {2, 2, map[importers.Severity]int{importers.Critical: 1, importers.Medium: 1}, 0},
	// KSV017 failed on web, KSV046 on a ClusterRole; the quiet Deployment passed all: 3 assets.
	"configauditreports_list.yaml": {2, 3, map[importers.Severity]int{importers.High: 1, importers.Critical: 1}, 1},
	// A JSON array: jq '[.[].report.secrets[]?] | length' → 2 (CRITICAL, MEDIUM; one without a
	// ruleID) on one image; jq '[.[].report.checks[]? | select(.success == false)] | length' → 1
	// (HIGH, no checkID) on one workload.
	"reports_array_secrets_missing_checkid.json": {3, 2, map[importers.Severity]int{importers.Critical: 1, importers.Medium: 1, importers.High: 1}, 0},
	// Keyed by resource type: jq '[.[][].status.summaryReport.controlCheck[]? | select((.totalFail|tonumber) > 0)] | length'
	// → 2 (MEDIUM, LOW; one totalFail a string); jq '[.[][].status.detailReport.results[]?.checks[] | select(.success == false)] | length'
	// → 2, the same control, check and target listed twice: 1 finding (HIGH). One asset, the
	// cluster; the SbomReport is a warning.
	"reports_by_resource_type_compliance.json": {3, 1, map[importers.Severity]int{importers.Medium: 1, importers.Low: 1, importers.High: 1}, 1},
}

func checkGolden(t *testing.T, rep *importers.Report, want golden) {
	importertest.Counts(t, rep, want.assets, want.findings, want.sev, "")
	if len(rep.Warnings) != want.warnings {
		t.Errorf("warnings %q, want %d", rep.Warnings, want.warnings)
	}
}

// vulnReport is a VulnerabilityReport holding the vulnerabilities body (YAML list items).
func vulnReport(body string) string {
	return "apiVersion: aquasecurity.github.io/v1alpha1\nkind: VulnerabilityReport\nmetadata:\n  name: r\nreport:\n  artifact:\n    repository: library/alpine\n    tag: \"3.19\"\n  vulnerabilities:\n" + body
}

const oneVuln = "  - vulnerabilityID: CVE-2024-0001\n    resource: musl\n    installedVersion: 1.2.4-r0\n    severity: LOW\n"

// spec is what the contract suite checks of the Trivy Operator parser.
var spec = importertest.Spec{
	Format: formatName,
	Golden: importertest.Golden(importertest.Table(goldenFiles, checkGolden)),
	Detect: map[string]bool{
		vulnReport(oneVuln): true,
		"---\napiVersion: aquasecurity.github.io/v1alpha1\nkind: ConfigAuditReport\n":                                    true,
		"apiVersion: v1\nitems:\n- apiVersion: aquasecurity.github.io/v1alpha1\n  kind: RbacAssessmentReport\n":          true,
		"{\n  \"apiVersion\": \"aquasecurity.github.io/v1alpha1\",\n  \"kind\": \"VulnerabilityReport\",\n":              true,
		"apiVersion: aquasecurity.github.io/v1alpha1\nkind: SbomReport\n":                                                false,
		"apiVersion: aquasecurity.github.io/v1alpha1\nkind: ExposedSecretReport\n":                                       true,
		"[\n  {\n    \"apiVersion\": \"aquasecurity.github.io/v1alpha1\",\n    \"kind\": \"ClusterComplianceReport\",\n": true,
		"apiVersion: apps/v1\nkind: Deployment\n":                                                                        false,
		`{"SchemaVersion": 2, "ArtifactName": "x", "Results": []}`:                                                       false,
		"kind: VulnerabilityReport\n": false,
	},
	Hostile: []importertest.Hostile{
		{Name: "empty", In: "", Msg: "empty report"},
		{Name: "only comments", In: "# nothing\n", Msg: "empty report"},
		{Name: "scalar", In: "just words", Msg: "expected a Kubernetes resource", Line: 1},
		{Name: "other resource", In: "apiVersion: apps/v1\nkind: Deployment\n", Msg: "not a Trivy Operator resource", Line: 1},
		{Name: "syntax", In: vulnReport(oneVuln) + "  - [unclosed\n", Msg: "did not find expected", Line: 13},
		{Name: "bad indentation", In: "apiVersion: x\n kind: y\n", Msg: "mapping values are not allowed", Line: 2},
		{Name: "wrong type", In: vulnReport("  - vulnerabilityID: [1]\n"), Msg: "cannot unmarshal", Line: 10},
		{Name: "no id", In: vulnReport("  - resource: musl\n"), Msg: "no vulnerabilityID"},
		{Name: "score range", In: vulnReport(oneVuln + "    score: 11\n"), Msg: "not in [0, 10]"},
		{Name: "no repository", In: "apiVersion: aquasecurity.github.io/v1alpha1\nkind: VulnerabilityReport\nreport: {}\n", Msg: "no report.artifact.repository"},
		{Name: "no check id", In: "apiVersion: aquasecurity.github.io/v1alpha1\nkind: ConfigAuditReport\nreport:\n  checks:\n  - success: false\n", Msg: "no checkID"},
		{Name: "secret without rule or title", In: "apiVersion: aquasecurity.github.io/v1alpha1\nkind: ExposedSecretReport\nreport:\n  artifact: {repository: a}\n  secrets:\n  - target: /x\n", Msg: "no ruleID and no title"},
		{Name: "resource type not a list", In: "{\"vulnerabilityreports.aquasecurity.github.io\": 3}", Msg: "expected a list of resources", Line: 1},
		{Name: "list without items", In: "apiVersion: v1\nkind: List\n", Msg: "without an items list", Line: 1},
		{Name: "list of scalars", In: "apiVersion: v1\nkind: List\nitems:\n- x\n", Msg: "expected a Kubernetes resource in items", Line: 4},
		{Name: "alias", In: vulnReport("  - &v\n    vulnerabilityID: CVE-1\n    resource: r\n  - *v\n"), Msg: "anchors and aliases are refused", Line: 10},
		{Name: "billion laughs", In: billionLaughs, Msg: "anchors and aliases are refused", Line: 1},
		{Name: "invalid UTF-8", In: vulnReport(strings.Replace(oneVuln, "musl", "\xff", 1)), Msg: "UTF-8"},
	},
	Nesting: []importertest.Stream{
		{Name: "flow [", Pattern: "[", Msg: "exceeded max depth", MaxRead: 1 << 20},
		{Name: "flow {", Pattern: "{a: ", Msg: "exceeded max depth", MaxRead: 1 << 20},
	},
	Huge: []importertest.Stream{{
		// The whole document is read before it is decoded: refused at the limit.
		Name: "description", Prefix: vulnReport(oneVuln) + "    description: \"", Pattern: "0123456789abcdef", Suffix: "\"\n",
		// go.yaml.in/yaml/v3 allocates about six times the text it scans.
		Msg: "limit", Size: 100 << 20, MaxRead: DefaultMaxBytes + 64<<10, MaxAlloc: 256 << 20,
	}},
	// YAML has no end marker: a cut at a line end is a whole, shorter report.
	Unterminated: ".yaml",
	Limited:      &Parser{MaxBytes: 1000},
	OverLimit:    vulnReport(oneVuln) + "# " + strings.Repeat("a", 2000) + "\n",
	Cancelled:    vulnReport(oneVuln),
	CancelStreams: []importertest.Stream{{
		Name: "while reading", Prefix: vulnReport(""), Pattern: oneVuln, Size: 20 << 20, CancelAfter: 1 << 20,
	}},
}

// billionLaughs nests aliases ten deep: expanded, a few hundred bytes would make 10^9 strings.
const billionLaughs = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func TestContract(t *testing.T) { importertest.Run(t, New, spec) }

// fuzzParser has a small limit, so that the fuzzer reaches it.
func fuzzParser() importers.Parser { return &Parser{MaxBytes: 1 << 20} }

// FuzzParse runs the suite's fuzz property; more seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	importertest.Fuzz(f, fuzzParser, spec,
		vulnReport(oneVuln+"    score: 5.5\n    fixedVersion: 1.2.5\n    links: [https://a]\n"),
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: aquasecurity.github.io/v1alpha1\n  kind: ConfigAuditReport\n  metadata: {labels: {trivy-operator.resource.kind: Pod, trivy-operator.resource.name: p, trivy-operator.resource.namespace: n}}\n  report: {checks: [{checkID: KSV001, severity: MEDIUM, success: false, messages: [m]}]}\n",
		`{"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport", "report": {"artifact": {"repository": "r", "digest": "sha256:00"}, "vulnerabilities": [{"vulnerabilityID": "GHSA-aaaa-bbbb-cccc", "severity": "UNKNOWN", "score": 9.1}]}}`,
		"---\n---\n",
		"a: &x 1\nb: *x\n",
		"[[[[",
	)
}

// BenchmarkParseLargest parses the largest Trivy Operator test file.
func BenchmarkParseLargest(b *testing.B) {
	importertest.Bench(b, New, importertest.Largest(b, formatName))
}
