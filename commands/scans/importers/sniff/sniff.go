// Package sniff says what a file that no parser recognised looks like, so that "report format
// not recognised" can tell the user what was seen and which supported format it is closest to
// (a Trivy report cut before its SchemaVersion, a Nessus CSV exported without the Host column, a
// SARIF 1.0 log, …) instead of listing the formats.
//
// The import service calls Explain(head) with the head it gave the parsers' Detect.
package sniff

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/readguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

// Kind is the syntax a file head is in.
type Kind string

const (
	Empty      Kind = "empty"
	JSONObject Kind = "JSON object"
	JSONArray  Kind = "JSON array"
	XML        Kind = "XML document"
	CSV        Kind = "CSV file"
	YAML       Kind = "YAML mapping"
	Text       Kind = "text"
	Binary     Kind = "binary file"
)

// maxNames bounds the names a Shape lists.
const maxNames = 20

// Shape is what a file head looks like.
type Shape struct {
	Kind Kind
	// Names identify the content: the top-level keys of a JSON object (of the first element of
	// a JSON array), the root element of an XML document, the columns of a CSV header. At most
	// 20, in file order.
	Names []string
	// Namespace is the XML root's default namespace, if any.
	Namespace string
}

// Describe looks at head (the first bytes of a file, possibly cut anywhere).
func Describe(head []byte) Shape {
	head = bytes.TrimSpace(readguard.TrimBOM(head))
	switch {
	case len(head) == 0:
		return Shape{Kind: Empty}
	case head[0] == '{' || head[0] == '[':
		paths := jsonguard.HeadPaths(head)
		s := Shape{Kind: JSONObject}
		prefix := "/"
		if head[0] == '[' {
			s.Kind, prefix = JSONArray, "/0/"
		}
		s.Names = jsonKeys(head, paths, prefix)
		return s
	case head[0] == '<':
		if root, ok := xmlscan.RootElement(xmlscan.As10(head)); ok {
			s := Shape{Kind: XML, Names: []string{root.Name.Local}}
			for _, a := range root.Attr {
				if a.Name.Space == "" && a.Name.Local == "xmlns" {
					s.Namespace = a.Value
				}
			}
			return s
		}
	}
	if bytes.IndexByte(head, 0) >= 0 || !utf8.Valid(wholeRunes(head[:min(len(head), 4096)])) {
		return Shape{Kind: Binary}
	}
	if keys := yamlKeys(head); len(keys) >= 2 {
		return Shape{Kind: YAML, Names: keys}
	}
	if h := csvscan.Header(head, 2); h != nil {
		s := Shape{Kind: CSV}
		for _, c := range h {
			if c = strings.TrimSpace(c); c != "" && len(s.Names) < maxNames {
				s.Names = append(s.Names, c)
			}
		}
		return s
	}
	return Shape{Kind: Text}
}

// reYAMLKey is a top-level key of a YAML block mapping ("kind: List", "items:").
var reYAMLKey = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_.-]*):(?:\s|$)`)

// yamlKeys are the top-level keys of a YAML document (Kubernetes resources: Trivy Operator's
// reports), in file order, when its first line that is not a comment or "---" is one; else nil.
func yamlKeys(head []byte) []string {
	var keys []string
	for _, line := range strings.Split(string(head), "\n") {
		line = strings.TrimRight(line, "\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		if line[0] == ' ' || line[0] == '-' {
			continue // nested or a list item
		}
		m := reYAMLKey.FindStringSubmatch(line)
		if m == nil {
			if len(keys) == 0 {
				return nil
			}
			continue
		}
		if len(keys) < maxNames && !slices.Contains(keys, m[1]) {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// wholeRunes is b without a rune cut at its end.
func wholeRunes(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			break
		}
	}
	return b
}

// jsonKeys are the keys under prefix ("/" or "/0/") in the order the head has them.
func jsonKeys(head []byte, paths map[string]string, prefix string) []string {
	type key struct {
		name string
		at   int
	}
	var keys []key
	for p := range paths {
		name, ok := strings.CutPrefix(p, prefix)
		if !ok || name == "" || strings.Contains(name, "/") {
			continue
		}
		at := bytes.Index(head, []byte(`"`+name+`"`))
		keys = append(keys, key{name, at})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].at < keys[j].at })
	var out []string
	for _, k := range keys {
		if len(out) < maxNames {
			out = append(out, k.name)
		}
	}
	return out
}

// signatures are the names that identify each supported format, in the encodings it comes in:
// JSON keys, XML root elements, CSV columns.
var signatures = map[string][]string{
	"trivy":     {"SchemaVersion", "ArtifactName", "ArtifactType", "Results", "ClusterName", "Resources", "Target", "Vulnerabilities", "Misconfigurations"},
	"grype":     {"matches", "source", "distro", "descriptor", "ignoredMatches"},
	"sarif":     {"runs", "$schema", "version", "inlineExternalProperties"},
	"cyclonedx": {"bomFormat", "specVersion", "serialNumber", "components", "vulnerabilities", "bom", "dependencies"},
	"nessus": {"NessusClientData_v2", "NessusClientData", "Plugin ID", "CVE", "CVSS v2.0 Base Score", "CVSS", "Risk", "Host",
		"Protocol", "Port", "Name", "Synopsis", "Plugin Output", "See Also"},
	"openvas": {"report", "get_reports_response", "IP", "Hostname", "Port Protocol", "QoD", "NVT Name", "NVT OID",
		"Specific Result", "CVEs", "Task Name"},
	"zap":  {"OWASPZAPReport", "@version", "@generated", "@programName", "site", "insights"},
	"nmap": {"nmaprun"},
	"nuclei": {"template-id", "template", "template-url", "template-path", "matched-at", "matcher-name", "matcher-status",
		"extracted-results", "curl-command", "matched-line",
		// before Nuclei 2.5
		"templateID", "matched", "matcher_name", "extracted_results", "curl_command"},
	"qualys": {"SCAN", "WAS_SCAN_REPORT", "ASSET_DATA_REPORT", "HOST_LIST_VM_DETECTION_OUTPUT",
		// the VM detections and PCI CSV exports
		"QID", "Vuln Status", "NetBIOS", "Tracking Method", "IP Status", "CVE ID", "CVSS3 Base", "Threat", "Solution",
		"VULN TITLE", "Q_SEVERITY", "CVEID", "OPERATING SYSTEM"},
	// A dump of every report keeps them under the resource type names.
	"trivy-operator": {"apiVersion", "kind", "metadata", "report", "items", "vulnerabilityreports.aquasecurity.github.io",
		"configauditreports.aquasecurity.github.io", "exposedsecretreports.aquasecurity.github.io",
		"rbacassessmentreports.aquasecurity.github.io", "infraassessmentreports.aquasecurity.github.io",
		"clusterconfigauditreports.aquasecurity.github.io", "clusterrbacassessmentreports.aquasecurity.github.io",
		"clusterinfraassessmentreports.aquasecurity.github.io", "clustercompliancereports.aquasecurity.github.io"},
	"kics": {"kics_version", "queries", "files_scanned", "files_parsed", "files_failed_to_scan", "queries_total",
		"queries_failed_to_execute", "severity_counters", "total_counter", "paths", "scan_id", "lines_scanned"},
	"sonarqube": {"issues", "hotspots", "paging", "components", "rules", "users", "facets", "total", "p", "ps", "effortTotal"},
	"checkmarx": {"CxXMLResults"},

	"burp":     {"issues"},
	"veracode": {"detailedreport", "_embedded", "_links", "page", "issue_id", "scan_type", "context_guid", "finding_status", "finding_details"},
	"acunetix": {"ScanGroup", "acunetix-360"},
	// Not "Target": Trivy's old array reports have Target and Vulnerabilities too.
	"acunetix360": {"Generated", "Vulnerabilities"},
	"govulncheck": {"config", "progress", "osv", "finding", "protocol_version", "scanner_name", "scanner_version",
		"db", "db_last_modified", "go_version", "scan_level", "scan_mode", "SBOM", "Calls", "Imports", "Requires", "Modules", "Vulns"},
	"npm-audit":      {"auditReportVersion", "vulnerabilities", "advisories", "actions", "muted"},
	"pip-audit":      {"dependencies", "fixes", "vulns", "skip_reason", "name", "version"},
	"github":         {"action", "alert", "repository", "sender", "organization", "installation", "number", "state", "security_advisory", "security_vulnerability", "dependency", "most_recent_instance", "rule", "tool", "dismissed_reason", "html_url", "data", "vulnerabilityAlerts"},
	"aws-inspector2": append([]string{"findings", "nextToken", "findingArn", "awsAccountId", "inspectorScore", "packageVulnerabilityDetails"}, eventBridge...),
	"generic": {"findings", "type", "name", "version", "description", "static_tool", "dynamic_tool", "Date", "Title", "CweId", "Url", "Severity", "Description", "Mitigation", "Impact", "References",
		"Active", "Verified", "FalsePositive", "Duplicate"},
	"semgrep": {"results", "errors", "paths", "version", "interfile_languages_used", "skipped_rules"},
	"bandit":  {"results", "errors", "generated_at", "metrics"},
	"gitleaks": {"Description", "StartLine", "EndLine", "StartColumn", "EndColumn", "Match", "Secret", "File", "SymlinkFile",
		"Commit", "Entropy", "Author", "Email", "Date", "Message", "Tags", "RuleID", "Fingerprint", "Link", "line", "lineNumber",
		"offender", "offenderEntropy", "commitMessage", "repo", "repoURL", "leakURL", "rule"},
	"snyk": {"vulnerabilities", "ok", "dependencyCount", "org", "policy", "isPrivate", "licensesPolicy", "packageManager",
		"ignoreSettings", "summary", "filesystemPolicy", "filtered", "uniqueCount", "projectName", "displayTargetFile", "docker",
		"platform", "scanResult", "remediation"},
	"osv-scanner":      {"results", "experimental_config"},
	"dependency-check": {"analysis", "scanInfo", "projectInfo", "dependencies", "reportSchema"},
	// "findings" too: boto3 scripts write get-findings' member in lower case.
	"asff": append([]string{"Findings", "findings", "NextToken", "SchemaVersion", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "Resources",
		"Severity", "Title", "Description", "ProductName", "CompanyName", "Region", "RecordState", "Workflow", "Compliance",
		"FirstObservedAt", "CreatedAt", "UpdatedAt", "Remediation", "Id"}, eventBridge...),
}

// eventBridge are the members of an EventBridge event, in which Security Hub and Inspector hand
// findings to a rule's target (detail.findings, detail).
var eventBridge = []string{"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}

// xmlOnly are the formats that only come as XML: a JSON key or CSV column sharing one of their
// names ("issues") is a coincidence, not a resemblance.
var xmlOnly = map[string]bool{"burp": true, "acunetix": true, "checkmarx": true, "nmap": true}

// Match is a supported format a shape resembles, with the names they share.
type Match struct {
	Format string
	Shared []string
}

// Resembles are the formats sharing at least one name with s, most shared names first.
func Resembles(s Shape) []Match {
	var out []Match
	exactOf := map[string]int{}
	for format, sig := range signatures {
		if xmlOnly[format] && s.Kind != XML {
			continue
		}
		var shared []string
		exact := 0
		for _, n := range s.Names {
			// A name counts once, even where the signature has it in two cases (ASFF's
			// "Findings" and "findings").
			match, same := false, false
			for _, want := range sig {
				match = match || strings.EqualFold(n, want)
				same = same || n == want
			}
			if match {
				shared = append(shared, n)
			}
			if same {
				exact++
			}
		}
		if len(shared) > 0 {
			out = append(out, Match{format, shared})
			exactOf[format] = exact
		}
	}
	// Most shared names first; among equals, the one whose names match in case too (ASFF's
	// "Findings" and Inspector's "findings" are the same name to a CSV header, not to JSON).
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Shared) != len(out[j].Shared) {
			return len(out[i].Shared) > len(out[j].Shared)
		}
		if ei, ej := exactOf[out[i].Format], exactOf[out[j].Format]; ei != ej {
			return ei > ej
		}
		return out[i].Format < out[j].Format
	})
	return out
}

// String says what the shape is: `a JSON object with the keys "a", "b"`.
func (s Shape) String() string {
	switch s.Kind {
	case Empty:
		return "an empty file"
	case Text:
		return "plain text"
	case Binary:
		return "a binary file"
	}
	var b strings.Builder
	if s.Kind == XML {
		b.WriteString("an ")
	} else {
		b.WriteString("a ")
	}
	b.WriteString(string(s.Kind))
	switch s.Kind {
	case JSONObject:
		b.WriteString(" with the keys ")
	case JSONArray:
		b.WriteString(" whose first element has the keys ")
	case XML:
		b.WriteString(" with the root element ")
	case CSV:
		b.WriteString(" with the columns ")
	case YAML:
		b.WriteString(" with the keys ")
	}
	if len(s.Names) == 0 {
		b.WriteString("(none)")
	}
	for i, n := range s.Names {
		if i > 0 {
			b.WriteString(", ")
		}
		if s.Kind == XML {
			b.WriteString("<" + n + ">")
		} else {
			fmt.Fprintf(&b, "%q", n)
		}
	}
	if s.Namespace != "" {
		fmt.Fprintf(&b, " (namespace %s)", s.Namespace)
	}
	return b.String()
}

// Explain is the sentence for an unrecognised file: what it is and what it resembles.
func Explain(head []byte) string {
	s := Describe(head)
	m := Resembles(s)
	if len(m) == 0 {
		return "the file is " + s.String() + "; it resembles none of the supported formats"
	}
	var parts []string
	for _, x := range m {
		if len(parts) == 3 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s (shares %s)", x.Format, strings.Join(x.Shared, ", ")))
	}
	return "the file is " + s.String() + "; it resembles " + strings.Join(parts, ", ")
}
