// Package checkmarx parses Checkmarx CxSAST XML reports (the CxXMLResults document the CxSAST
// portal, CxConsole and CxFlow write) into the normalised importers.Report.
//
// # What is read
//
// The document element <CxXMLResults> names the project (ProjectName, TeamFullPathOnReportDate)
// and the engine (CheckmarxVersion). Each <Query> (id, name, cweId, Severity, group, Language,
// categories) holds its <Result> elements, and each Result becomes one finding: the RuleID is the
// query id, the title the query name with spaces for underscores, the location the Result's
// FileName, Line and Column (CxSAST gives the Result the place of the first node of its path,
// the source), the CWE the query's cweId (0 is none), the reference the Result's
// DeepLink, the description the query's group, language and categories. The Result's <Path>
// (SimilarityId; PathNode elements with FileName, Line, Name and Snippet code) gives the
// evidence: the data flow from source to sink, one line per node.
//
// One repository asset per report, named after the project (team path and project name): CxSAST
// knows no repository URL, so the project name is also the Target (hint "project").
//
// Severity: the Result's Severity (a triaged result may differ from its query), else the query's:
// Critical (CxSAST 9.7+), High, Medium, Low map to the same importers severity, Information and
// Info to info, anything else to info. ScannerSeverity keeps Checkmarx's word.
//
// Suppressions: FalsePositive="True" or state="1" (Not Exploitable) is false_positive, with the
// Result's Remark as reason. Proposed Not Exploitable (state 4) is only a proposal: left open.
//
// # Fingerprints
//
// The lower-case hex SHA-256 of the JSON array ["checkmarx/v1", query id, FileName,
// SimilarityId]: Checkmarx's similarity id hashes the query, the file name and the code of the
// source and sink lines, so it survives line moves. Without one (CxSAST before 8.x), the array is
// ["checkmarx/v1", query id, FileName, "", source name, source code, sink name, sink code] (the
// first and last PathNode), and the line only when the path has no node. Results with the same
// fingerprint (Checkmarx gives one similarity id to two flows through the same line of one file)
// are merged into one finding, as Checkmarx triages them together.
//
// # Limits
//
// The XML is read as a token stream (xmlscan): no DTD entities, nesting and token sizes bounded,
// one Result held at a time. Malformed input gives a *importers.ParseError naming the line or
// offset; a cancelled context gives ctx.Err() unwrapped.
package checkmarx

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const formatName = "checkmarx"

// New returns a Checkmarx CxSAST XML parser.
func New() importers.Parser {
	return &xmlscan.Format{Name: formatName, Root: isRoot, Read: read, Describe: describe}
}

// isRoot reports whether se, an XML document's element, is <CxXMLResults>.
func isRoot(se xml.StartElement, _ []byte) bool { return se.Name.Local == "CxXMLResults" }

// severities maps CxSAST's severity words, lower-cased.
var severities = map[string]importers.Severity{
	"critical": importers.Critical, "high": importers.High, "medium": importers.Medium,
	"low": importers.Low, "information": importers.Info, "info": importers.Info,
}

// describe documents the format for the format list.
func describe() importers.FormatInfo {
	sev := map[string]importers.Severity{}
	for k, v := range severities {
		sev[strings.ToUpper(k[:1])+k[1:]] = v
	}
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "Checkmarx CxSAST XML (CxXMLResults)",
		Family:      "sast",
		Versions:    []string{"CxSAST 8.x–9.x"},
		Detection:   "an XML document whose root element is <CxXMLResults>",
		Fingerprint: []string{"Query id", "Result FileName", "Path SimilarityId", "else the source and sink nodes' names and code"},
		Severity:    sev,
		Notes: "Each Result is one finding; the Result's Severity wins over its Query's. FalsePositive=\"True\" or " +
			"state=\"1\" (Not Exploitable) marks it false_positive; Proposed Not Exploitable stays open. Results " +
			"sharing a similarity id in one file are merged. One repository asset per project, also the Target.",
	}
}

// query is a <Query>'s attributes.
type query struct {
	id, name, cwe, severity, group, language, categories string
}

// read parses a CxXMLResults document; a JSON report is refused with what to export instead.
func read(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := xmlscan.RefuseJSON(r, formatName, "a CxSAST XML report",
		"Checkmarx One and CxFlow JSON reports are another format; export the CxSAST scan report as XML")
	if err != nil {
		return nil, err
	}
	s := xmlscan.New(ctx, r, formatName)
	root, err := s.Root()
	if err != nil {
		return nil, err
	}
	if root.Name.Local != "CxXMLResults" {
		return nil, s.Errorf("document element is <%s>, not <CxXMLResults>", root.Name.Local)
	}
	attr := func(se xml.StartElement, name string) string {
		return parseutil.Truncate(strings.TrimSpace(xmlscan.Attr(se, name)), parseutil.MaxShort)
	}
	out := &importers.Report{
		Format:         formatName,
		ScannerName:    "Checkmarx CxSAST",
		ScannerVersion: attr(root, "CheckmarxVersion"),
	}
	project := attr(root, "ProjectName")
	name := parseutil.FirstNonEmpty(project, "scan "+attr(root, "ScanId"))
	if team := attr(root, "TeamFullPathOnReportDate"); team != "" && project != "" {
		name = parseutil.Truncate(team+`\`+project, parseutil.MaxShort)
	}
	asset := importers.Asset{Key: "checkmarx:" + name, Kind: importers.Repository, Name: name}
	var findings parseutil.FindingSet
	err = s.Each("Query", func(se xml.StartElement) error {
		q := query{
			id: attr(se, "id"), name: attr(se, "name"), cwe: attr(se, "cweId"), severity: attr(se, "Severity"),
			group: attr(se, "group"), language: attr(se, "Language"), categories: attr(se, "categories"),
		}
		return s.Each("Result", func(se xml.StartElement) error {
			line, col, off := s.Pos()
			node, err := s.Tree(se, parseutil.MaxEvidence)
			if err != nil {
				return err
			}
			f, msg := finding(asset.Key, &q, node)
			if msg != "" {
				return &importers.ParseError{Format: formatName, Offset: off, Line: line, Column: col, Msg: msg}
			}
			findings.Add(f)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if err := s.Trailing(); err != nil {
		return nil, err
	}
	out.Assets = []importers.Asset{asset}
	out.Findings = findings.Findings()
	out.Target = &importers.Target{Name: name, Hint: "project"}
	return importers.Bounded(out, nil)
}

// number reads a line or column attribute: "" is 0, anything but a non-negative integer is refused.
func number(what, v string) (int, string) {
	if v == "" {
		return 0, ""
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n < 0 {
		return 0, fmt.Sprintf("Result %s %q is not a non-negative integer", what, parseutil.TruncateEllipsis(v, 40))
	}
	return int(n), ""
}

// finding builds the finding of one <Result> of q; msg, when not "", is why the Result is refused.
func finding(assetKey string, q *query, res *xmlscan.Node) (f importers.Finding, msg string) {
	file := strings.TrimSpace(res.AttrValue("FileName"))
	line, msg := number("Line", strings.TrimSpace(res.AttrValue("Line")))
	if msg != "" {
		return f, msg
	}
	col, msg := number("Column", strings.TrimSpace(res.AttrValue("Column")))
	if msg != "" {
		return f, msg
	}
	word := parseutil.FirstNonEmpty(res.AttrValue("Severity"), q.severity)
	f = importers.Finding{
		AssetKey:        assetKey,
		RuleID:          q.id,
		Title:           parseutil.FirstNonEmpty(strings.ReplaceAll(q.name, "_", " "), q.id, "Checkmarx result"),
		ScannerSeverity: word,
		Severity:        importers.Info,
		Location:        importers.Location{File: file, Line: line, Column: col},
		References:      parseutil.AppendUnique(nil, strings.TrimSpace(res.AttrValue("DeepLink"))),
	}
	if s, ok := severities[strings.ToLower(word)]; ok {
		f.Severity = s
	}
	if c := parseutil.CWENumber(q.cwe); c != "" {
		f.CWEs = []string{c}
	}
	var desc []string
	if q.group != "" || q.language != "" {
		desc = append(desc, strings.TrimSpace("Checkmarx query "+q.name+" ("+strings.Trim(q.language+", "+q.group, ", ")+")."))
	}
	if q.categories != "" {
		desc = append(desc, "Categories: "+q.categories+".")
	}
	f.Description = strings.Join(desc, "\n")

	path := res.Kid("Path")
	nodes := path.All("", "PathNode")
	var ev []string
	for _, n := range nodes {
		code := ""
		if snip := n.Kid("Snippet"); snip != nil {
			code = snip.Get("Line", "Code")
		}
		ev = append(ev, strings.TrimSpace(fmt.Sprintf("%s:%s %s: %s", n.Get("FileName"), n.Get("Line"), n.Get("Name"), code)))
	}
	if len(ev) > 0 {
		f.Evidence = "Data flow, source to sink:\n" + strings.Join(ev, "\n")
	}

	if strings.EqualFold(res.AttrValue("FalsePositive"), "true") || strings.TrimSpace(res.AttrValue("state")) == "1" {
		f.Suppressed = &importers.Suppression{
			Kind:   importers.SuppressedFalsePositive,
			Reason: parseutil.FirstNonEmpty(res.AttrValue("Remark"), "Not Exploitable"),
			Source: "checkmarx FalsePositive/state",
		}
	}

	similarity := ""
	if path != nil {
		similarity = strings.TrimSpace(path.AttrValue("SimilarityId"))
	}
	switch {
	case similarity != "":
		f.Fingerprint = parseutil.FingerprintJSON("checkmarx/v1", q.id, file, similarity)
	case len(nodes) > 0:
		src, sink := nodes[0], nodes[len(nodes)-1]
		code := func(n *xmlscan.Node) string { return n.Kid("Snippet").Get("Line", "Code") }
		f.Fingerprint = parseutil.FingerprintJSON("checkmarx/v1", q.id, file, "",
			src.Get("Name"), strings.TrimSpace(code(src)), sink.Get("Name"), strings.TrimSpace(code(sink)))
	default:
		f.Fingerprint = parseutil.FingerprintJSON("checkmarx/v1", q.id, file, "", strconv.Itoa(line))
	}
	return f, ""
}
