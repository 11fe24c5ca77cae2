package veracode

// The findings REST API's JSON (GET /appsec/v2/applications/{guid}/findings): what pipelines
// that no longer download the detailed report save instead. A page is an object holding
// _embedded.findings[] (the API's HAL page, beside _links and page), or findings[] (the list
// scripts write when they gather the pages); a bare array of findings is read too.
//
// Each finding is one element: issue_id, scan_type (STATIC, DYNAMIC, MANUAL, SCA), description
// (HTML), context_guid (the application or sandbox), finding_status and finding_details, whose
// members depend on the scan type. It maps like a flaw or an SCA vulnerability of the detailed
// report:
//   - STATIC, DYNAMIC and MANUAL: title the finding category, RuleID and CWE from cwe.id,
//     location file_path (else file_name, else module) and file_line_number, or url (else
//     hostname + path) and vulnerable_parameter; fingerprint veracode/v1|<app>|flaw|<issue_id>.
//   - SCA: a finding on the component (component_filename, version, the first component_path),
//     CVE from cve.name (a Veracode SRCCLR-SID id is kept as the RuleID and a reference);
//     fingerprint veracode/v1|<app>|sca|<component_filename>@<version>|<cve.name> (the API gives
//     no library_id).
//
// app is the finding's context_guid: the API names the application by its GUID only, so the
// fingerprints of the JSON and of the detailed report (app_id) of one application differ.
//
// The report's FinishedAt is the latest last_seen_date of its findings.
//
// Verdicts: an approved mitigation (resolution_status APPROVED) is false_positive when the
// resolution is POTENTIAL_FALSE_POSITIVE, else accepted; a CLOSED finding otherwise is resolved
// (Veracode no longer finds it), as remediation_status Fixed is in the detailed report.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// apiScanTypes are the scan_type values of the findings API.
var apiScanTypes = map[string]bool{"STATIC": true, "DYNAMIC": true, "MANUAL": true, "SCA": true}

// detectAPI reports whether head starts a findings API page, list or array: its first finding
// has a scan_type the API writes and a finding_status or finding_details (which follow
// description, so a head may end before them: then context_guid or count will do).
func detectAPI(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	var first string
	switch {
	case p[""] == "[":
		first = "/0"
	case p[""] == "{" && p["/_embedded"] == "{":
		first = "/_embedded/findings/0"
	case p[""] == "{" && p["/findings"] == "[":
		first = "/findings/0"
	default:
		return false
	}
	if p[first] != "{" || !apiScanTypes[p[first+"/scan_type"]] {
		return false
	}
	for _, member := range []string{"/finding_status", "/finding_details", "/context_guid", "/issue_id"} {
		if _, ok := p[first+member]; ok {
			return true
		}
	}
	return false
}

// Wire types: only the fields used.

type apiRef struct {
	ID   jsonguard.LineNo `json:"id"`
	Name string           `json:"name"`
}

type apiCVE struct {
	Name  string          `json:"name"`
	CVSS  json.RawMessage `json:"cvss"`
	CVSS3 struct {
		Score json.RawMessage `json:"score"`
	} `json:"cvss3"`
}

// apiID is an issue_id: a JSON number (past 2^31 in large accounts) or a numeric string.
type apiID string

// UnmarshalJSON implements json.Unmarshaler.
func (id *apiID) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil && string(b) != "null" {
		return fmt.Errorf("issue_id %s is not a number", parseutil.TruncateEllipsis(string(b), 40))
	}
	if _, err := strconv.ParseUint(n.String(), 10, 64); err != nil && n != "" {
		return fmt.Errorf("issue_id %q is not a whole number", parseutil.TruncateEllipsis(n.String(), 40))
	}
	*id = apiID(n)
	return nil
}

type apiFinding struct {
	IssueID     apiID  `json:"issue_id"`
	ScanType    string `json:"scan_type"`
	Description string `json:"description"`
	ContextGUID string `json:"context_guid"`
	Status      struct {
		Status           string `json:"status"`
		Resolution       string `json:"resolution"`
		ResolutionStatus string `json:"resolution_status"`
		LastSeen         string `json:"last_seen_date"`
	} `json:"finding_status"`
	Details struct {
		Severity       *jsonguard.LineNo `json:"severity"`
		CWE            apiRef            `json:"cwe"`
		Category       apiRef            `json:"finding_category"`
		FilePath       string            `json:"file_path"`
		FileName       string            `json:"file_name"`
		Module         string            `json:"module"`
		FileLineNumber jsonguard.LineNo  `json:"file_line_number"`
		URL            string            `json:"url"`
		Hostname       string            `json:"hostname"`
		Path           string            `json:"path"`
		Parameter      string            `json:"vulnerable_parameter"`
		// SCA
		ComponentFilename string  `json:"component_filename"`
		Version           string  `json:"version"`
		CVE               *apiCVE `json:"cve"`
		ComponentPath     []struct {
			Path string `json:"path"`
		} `json:"component_path"`
	} `json:"finding_details"`
}

// apiRequired are the members the fingerprint is made of: a wrong type there refuses the report.
var apiRequired = []string{"issue_id", "scan_type", "context_guid", "finding_details.severity",
	"finding_details.component_filename", "finding_details.version", "finding_details.cve.name"}

// parseAPI reads the findings API's JSON (see the top of this file).
func parseAPI(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, format, r, 0, 0)
	if err != nil {
		return nil, err
	}
	var b apiBuilder
	tolerant := jsonguard.Tolerant{Required: apiRequired, Warn: func(m string) { b.warnings = append(b.warnings, m) }}
	findings := func(what string) error {
		b.saw = true
		return w.Array(what, func(i int) error {
			var f apiFinding
			at, err := w.DecodeTolerant(&f, what+"["+strconv.Itoa(i)+"]", tolerant)
			if err != nil {
				return err
			}
			if msg := b.add(&f); msg != "" {
				return w.ErrAt(at, what+"["+strconv.Itoa(i)+"]: "+msg)
			}
			return nil
		})
	}
	start := w.Start()
	if w.Next() == '[' {
		if err = findings("findings"); err == nil {
			err = w.End()
		}
	} else {
		err = w.Document("page", func(key string) error {
			switch key {
			case "findings":
				return findings(key)
			case "_embedded":
				return w.Object(key, func(inner string) error {
					if inner == "findings" {
						return findings("_embedded.findings")
					}
					return w.Skip()
				})
			case "page":
				b.saw = true // a page of no findings has no _embedded
			}
			return w.Skip()
		})
	}
	if err != nil {
		return nil, err
	}
	if !b.saw {
		return nil, w.ErrAt(start, "not a Veracode findings API page: no findings, _embedded.findings or page")
	}
	out := &importers.Report{Format: format, ScannerName: "Veracode", FinishedAt: b.lastSeen, Assets: b.assets.Assets(), Findings: b.fs.Findings()}
	if len(out.Assets) == 1 {
		out.Target = &importers.Target{Name: out.Assets[0].Name, Hint: "artifact"}
	}
	out.Warnings = append(b.warnings, w.Warnings()...)
	return importers.Bounded(out, nil)
}

type apiBuilder struct {
	assets   parseutil.AssetSet
	fs       parseutil.FindingSet
	warnings []string
	saw      bool
	// lastSeen is the latest finding_status.last_seen_date: the API's pages carry no report
	// time, and the last analysis that saw a finding is the closest to one.
	lastSeen time.Time
}

// add maps one finding; a message when it cannot be.
func (b *apiBuilder) add(a *apiFinding) string {
	app := parseutil.Truncate(strings.TrimSpace(a.ContextGUID), parseutil.MaxShort)
	if app == "" {
		return "no context_guid (the application)"
	}
	key := "app:" + app
	if b.assets.Get(key) == nil {
		b.assets.Add(importers.Asset{Key: key, Kind: importers.Repository, Name: app})
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(a.Status.LastSeen)); err == nil && t.After(b.lastSeen) {
		b.lastSeen = t.UTC()
	}
	d := &a.Details
	if d.Severity == nil {
		return "no finding_details.severity"
	}
	sev, err := severity(strconv.Itoa(int(*d.Severity)))
	if err != nil {
		return err.Error()
	}
	f := importers.Finding{
		AssetKey:        key,
		Severity:        sev,
		ScannerSeverity: strconv.Itoa(int(*d.Severity)),
		Description:     parseutil.Truncate(parseutil.PlainText(a.Description), parseutil.MaxField),
		Suppressed:      apiVerdict(a),
	}
	if d.CWE.ID > 0 {
		f.CWEs = []string{"CWE-" + strconv.Itoa(int(d.CWE.ID))}
		f.RuleID = f.CWEs[0]
	}
	if strings.EqualFold(a.ScanType, "SCA") {
		return b.addSCA(app, a, f)
	}
	issue := string(a.IssueID)
	if issue == "" {
		return "a " + parseutil.Truncate(a.ScanType, 32) + " finding without an issue_id"
	}
	f.Fingerprint = parseutil.FingerprintCanonical("veracode/v1", app, "flaw", issue)
	f.Title = parseutil.FirstNonEmpty(strings.TrimSpace(d.Category.Name), strings.TrimSpace(d.CWE.Name), "Veracode flaw "+issue)
	if f.RuleID == "" && d.Category.ID > 0 {
		f.RuleID = strconv.Itoa(int(d.Category.ID))
	}
	f.Location = importers.Location{
		File:  parseutil.FirstNonEmpty(d.FilePath, d.FileName),
		Line:  int(d.FileLineNumber),
		URL:   d.URL,
		Param: d.Parameter,
	}
	if f.Location.URL == "" && d.Hostname != "" {
		f.Location.URL = d.Hostname + d.Path
	}
	if f.Location.File == "" && f.Location.URL == "" {
		f.Location.File = d.Module
	}
	b.fs.Add(f)
	return ""
}

// addSCA maps an SCA finding onto its component.
func (b *apiBuilder) addSCA(app string, a *apiFinding, f importers.Finding) string {
	d := &a.Details
	c := importers.Component{Name: strings.TrimSpace(d.ComponentFilename), Version: strings.TrimSpace(d.Version)}
	if c.Name == "" {
		return "an SCA finding without a component_filename"
	}
	if len(d.ComponentPath) > 0 {
		c.Path = d.ComponentPath[0].Path
	}
	id := ""
	if d.CVE != nil {
		id = strings.TrimSpace(d.CVE.Name)
		if score := parseutil.FirstNonEmpty(string(d.CVE.CVSS3.Score), string(d.CVE.CVSS)); score != "" && score != "null" {
			f.ScannerSeverity += ", CVSS " + parseutil.Truncate(score, 16)
		}
	}
	if id == "" {
		return "an SCA finding of " + parseutil.Truncate(c.Name, 64) + " without a cve.name"
	}
	f.Fingerprint = parseutil.FingerprintCanonical("veracode/v1", app, "sca", c.Name+"@"+c.Version, id)
	f.Title = id + " in " + c.Name + " " + c.Version
	f.RuleID = id
	f.Component = &c
	f.Location = importers.Location{File: c.Path}
	if cve, ok := parseutil.NormCVE(id); ok {
		f.CVEs = []string{cve}
	} else {
		f.References = []string{id}
	}
	b.fs.Add(f)
	return ""
}

// apiVerdict is the finding's status as a lifecycle hint, or nil when it is open.
func apiVerdict(a *apiFinding) *importers.Suppression {
	st := &a.Status
	res := strings.ToUpper(strings.TrimSpace(st.Resolution))
	switch {
	case strings.EqualFold(st.ResolutionStatus, "APPROVED") && res == "POTENTIAL_FALSE_POSITIVE":
		return &importers.Suppression{Kind: importers.SuppressedFalsePositive, Reason: "POTENTIAL_FALSE_POSITIVE approved", Source: "veracode finding_status"}
	case strings.EqualFold(st.ResolutionStatus, "APPROVED") && res != "" && res != "UNRESOLVED":
		return &importers.Suppression{Kind: importers.SuppressedAccepted, Reason: parseutil.Truncate(res, parseutil.MaxShort) + " approved", Source: "veracode finding_status"}
	case strings.EqualFold(st.Status, "CLOSED"):
		return &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "status CLOSED", Source: "veracode finding_status"}
	}
	return nil
}
