package acunetix

import (
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

var severities360 = map[string]importers.Severity{
	"critical": importers.Critical, "high": importers.High, "medium": importers.Medium, "low": importers.Low,
	"information": importers.Info, "info": importers.Info, "bestpractice": importers.Info,
}

// vuln360 is one Acunetix 360 vulnerability, as the XML and the JSON export both hold it.
type vuln360 struct {
	LookupID    string `json:"LookupId"`
	URL         string `json:"Url"`
	Type        string `json:"Type"`
	Name        string `json:"Name"`
	Severity    string `json:"Severity"`
	Certainty   any    `json:"Certainty"` // a number in JSON, text in XML; only shown
	State       string `json:"State"`
	Description string `json:"Description"`
	Impact      string `json:"Impact"`
	Remedy      string `json:"RemedialProcedure"`
	Actions     string `json:"RemedialActions"`
	RemedyRefs  string `json:"RemedyReferences"`
	ExtRefs     string `json:"ExternalReferences"`
	PoC         string `json:"ProofOfConcept"`

	Classification struct {
		Cwe    string  `json:"Cwe"`
		Cvss   cvss360 `json:"Cvss"`
		Cvss31 cvss360 `json:"Cvss31"`
	} `json:"Classification"`
	HTTPRequest struct {
		Method  string `json:"Method"`
		Content string `json:"Content"`
	} `json:"HttpRequest"`
	HTTPResponse struct {
		Content string `json:"Content"`
	} `json:"HttpResponse"`
}

type cvss360 struct {
	Vector    string `json:"Vector"`
	BaseScore struct {
		Value any `json:"Value"` // "8.6" or 8.6
	} `json:"BaseScore"`
}

// finding maps v, found on the site at base (asset key), to a finding.
func (v *vuln360) finding(key, base string) (importers.Finding, error) {
	if v.Type == "" {
		return importers.Finding{}, fmt.Errorf("vulnerability %q has no type", v.Name)
	}
	if v.URL == "" {
		return importers.Finding{}, fmt.Errorf("vulnerability %q (%s) has no URL", v.Name, v.Type)
	}
	sev, ok := severities360[strings.ToLower(strings.TrimSpace(v.Severity))]
	if !ok {
		return importers.Finding{}, fmt.Errorf("vulnerability %q: severity %q is none of Critical, High, Medium, Low, Information, BestPractice", v.Name, parseutil.Truncate(v.Severity, 64))
	}
	f := importers.Finding{
		AssetKey:        key,
		Fingerprint:     parseutil.FingerprintCanonical("acunetix360/v1", base, v.Type, v.URL),
		Title:           parseutil.FirstNonEmpty(v.Name, v.Type),
		Severity:        sev,
		ScannerSeverity: v.Severity,
		RuleID:          v.Type,
		Location:        importers.Location{URL: v.URL, Method: strings.ToUpper(v.HTTPRequest.Method)},
		Description:     parseutil.PlainParagraphs(v.Description, v.Impact),
		Remediation:     parseutil.PlainParagraphs(v.Actions, v.Remedy),
		Evidence:        parseutil.Exchange(parseutil.PlainText(v.PoC), v.HTTPRequest.Content, v.HTTPResponse.Content),
	}
	if c := fmt.Sprint(v.Certainty); v.Certainty != nil && c != "" {
		f.ScannerSeverity += " (certainty " + parseutil.Truncate(c, 16) + ")"
	}
	for _, c := range strings.Split(v.Classification.Cwe, ",") {
		if cwe := parseutil.CWENumber(c); cwe != "" {
			f.CWEs = parseutil.AddUnique(f.CWEs, cwe)
		}
	}
	for _, c := range []cvss360{v.Classification.Cvss, v.Classification.Cvss31} {
		ver, _, ok := strings.Cut(strings.TrimPrefix(c.Vector, "CVSS:"), "/")
		if !ok || !strings.HasPrefix(c.Vector, "CVSS:") || (ver != "3.0" && ver != "3.1" && ver != "4.0") {
			continue
		}
		rating := importers.CVSS{Version: ver, Vector: c.Vector, Source: "acunetix360"}
		if c.BaseScore.Value != nil {
			if score, err := parseutil.Number(fmt.Sprint(c.BaseScore.Value), 0, 10); err == nil {
				rating.Score = score
			}
		}
		f.CVSS = parseutil.AddCVSS(f.CVSS, rating)
	}
	for _, html := range []string{v.RemedyRefs, v.ExtRefs} {
		f.References = parseutil.AddUnique(f.References, parseutil.Links(html)...)
	}
	if v.LookupID != "" {
		f.References = parseutil.AddUnique(f.References, parseutil.Truncate("https://online.acunetix360.com/issues/detail/"+v.LookupID, parseutil.MaxShort))
	}
	f.Suppressed = state360(v.State)
	return f, nil
}

// state360 is the verdict of an Acunetix 360 State ("Present, FalsePositive"), nil when the
// issue is open.
func state360(state string) *importers.Suppression {
	var kind importers.SuppressionKind
	for _, s := range strings.Split(state, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		switch {
		case s == "falsepositive":
			kind = importers.SuppressedFalsePositive
		case (s == "acceptedrisk" || s == "ignored") && kind != importers.SuppressedFalsePositive:
			kind = importers.SuppressedAccepted
		case strings.HasPrefix(s, "fixed") && kind == "":
			kind = importers.SuppressedResolved
		}
	}
	if kind == "" {
		return nil
	}
	return &importers.Suppression{Kind: kind, Reason: parseutil.Truncate("State "+strings.TrimSpace(state), parseutil.MaxShort), Source: "acunetix360 State"}
}

// read360XML reads <acunetix-360>: <target> then <vulnerabilities>.
func read360XML(s *xmlscan.Scanner) (*importers.Report, error) {
	var st site
	var fs parseutil.FindingSet
	var targetURL, initiated string
	short, field := parseutil.MaxShort, parseutil.MaxField
	err := s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "target":
			return s.Fields(nil, xmlscan.Text("url", &targetURL, short), xmlscan.Text("initiated", &initiated, short))
		case "vulnerabilities":
			if targetURL == "" {
				return s.Errorf("<vulnerabilities> before a <target> with a <url>")
			}
			key, base := st.add(targetURL)
			return s.Each("vulnerability", func(xml.StartElement) error {
				line, col, off := s.Pos()
				var v vuln360
				var certainty string
				err := s.Fields(func(se xml.StartElement) error {
					switch se.Name.Local {
					case "classification":
						return s.Fields(func(se xml.StartElement) error {
							if se.Name.Local != "cvss" && se.Name.Local != "cvss31" {
								return s.Skip()
							}
							n, err := s.Tree(se, short)
							if err != nil {
								return err
							}
							c := cvss360{Vector: n.Get("vector")}
							for _, sc := range n.All("", "score") {
								if strings.EqualFold(sc.Get("type"), "Base") {
									c.BaseScore.Value = sc.Get("value")
								}
							}
							if se.Name.Local == "cvss" {
								v.Classification.Cvss = c
							} else {
								v.Classification.Cvss31 = c
							}
							return nil
						}, xmlscan.Text("cwe", &v.Classification.Cwe, short))
					case "http-request":
						return s.Fields(nil, xmlscan.Text("method", &v.HTTPRequest.Method, short), xmlscan.Text("content", &v.HTTPRequest.Content, parseutil.MaxDump))
					case "http-response":
						return s.Fields(nil, xmlscan.Text("content", &v.HTTPResponse.Content, parseutil.MaxDump))
					}
					return s.Skip()
				},
					xmlscan.Text("LookupId", &v.LookupID, short),
					xmlscan.Text("url", &v.URL, short),
					xmlscan.Text("type", &v.Type, short),
					xmlscan.Text("name", &v.Name, short),
					xmlscan.Text("severity", &v.Severity, short),
					xmlscan.Text("certainty", &certainty, short),
					xmlscan.Text("state", &v.State, short),
					xmlscan.Text("description", &v.Description, field),
					xmlscan.Text("impact", &v.Impact, field),
					xmlscan.Text("remedial-actions", &v.Actions, field),
					xmlscan.Text("remedial-procedure", &v.Remedy, field),
					xmlscan.Text("remedy-references", &v.RemedyRefs, field),
					xmlscan.Text("external-references", &v.ExtRefs, field),
					xmlscan.Text("proof-of-concept", &v.PoC, field))
				if err != nil {
					return err
				}
				if certainty != "" {
					v.Certainty = certainty
				}
				f, err := v.finding(key, base)
				if err != nil {
					return &importers.ParseError{Format: format, Offset: off, Line: line, Column: col, Msg: err.Error()}
				}
				fs.Add(f)
				return nil
			})
		}
		return s.Skip()
	})
	if err != nil {
		return nil, err
	}
	return &importers.Report{
		Format:      format,
		ScannerName: "Acunetix 360",
		StartedAt:   reportTime(initiated),
		Assets:      st.assets.Assets(),
		Findings:    fs.Findings(),
		Target:      st.target,
	}, nil
}
