package acunetix

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const format360 = "acunetix360"

// Parser360 reads Acunetix 360 JSON exports. The zero value uses the default limits.
type Parser360 struct{ jsonguard.Limits }

// New360JSON returns the Acunetix 360 JSON parser with the default limits.
func New360JSON() importers.Parser { return &Parser360{} }

// Format implements importers.Parser.
func (*Parser360) Format() string { return format360 }

// Info documents the format for the format list.
func (*Parser360) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        format360,
		Title:       "Acunetix 360 JSON export",
		Family:      "dast",
		Versions:    []string{"Acunetix 360 / Invicti Enterprise JSON (Vulnerabilities[] with Classification)"},
		Detection:   "a JSON object with a Vulnerabilities array whose first entry has LookupId, Classification or Certainty, or with Target.ScanId",
		Fingerprint: []string{"Target.Url", "Type", "Url"},
		Severity:    severities360,
		Notes: "One web_application asset (Target.Url). State FalsePositive → false positive, AcceptedRisk / Ignored → risk accepted, " +
			"Fixed… → resolved. CVSS 3.x vectors of Classification.Cvss and Cvss31 are kept.",
	}
}

// Detect reports whether head is an Acunetix 360 JSON export.
func (*Parser360) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if p[""] != "{" || p["/Vulnerabilities"] != "[" {
		return false
	}
	if _, ok := p["/Target/ScanId"]; ok {
		return true
	}
	for _, k := range []string{"LookupId", "Classification", "Certainty"} {
		if _, ok := p["/Vulnerabilities/0/"+k]; ok {
			return true
		}
	}
	return false
}

// Parse implements importers.Parser.
func (p *Parser360) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, format360, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var st site
	var fs parseutil.FindingSet
	var warnings []string
	var target struct {
		ScanID    string `json:"ScanId"`
		URL       string `json:"Url"`
		Initiated string `json:"Initiated"`
	}
	var key, base, generated string
	type pending struct {
		v  vuln360
		at jsonguard.Pos
	}
	var waiting []pending // vulnerabilities read before the Target (not how Acunetix writes them)
	tolerant := jsonguard.Tolerant{Required: []string{"Type", "Url", "Severity"}, Warn: func(m string) { warnings = append(warnings, m) }}
	add := func(v vuln360, at jsonguard.Pos) error {
		f, err := v.finding(key, base)
		if err != nil {
			return w.ErrAt(at, err.Error())
		}
		fs.Add(f)
		return nil
	}
	sawVulns := false
	err = w.Document("report", func(k string) error {
		switch k {
		case "Generated":
			var err error
			generated, err = w.Str()
			return err
		case "Target":
			at, err := w.Decode(&target)
			if err != nil {
				return err
			}
			if strings.TrimSpace(target.URL) == "" {
				return w.ErrAt(at, "Target has no Url")
			}
			key, base = st.add(target.URL)
			for _, p := range waiting {
				if err := add(p.v, p.at); err != nil {
					return err
				}
			}
			waiting = nil
			return nil
		case "Vulnerabilities":
			sawVulns = true
			return w.Array("Vulnerabilities", func(i int) error {
				var v vuln360
				at, err := w.DecodeTolerant(&v, "Vulnerabilities["+strconv.Itoa(i)+"]", tolerant)
				if err != nil {
					return err
				}
				if key == "" {
					waiting = append(waiting, pending{v, at})
					return nil
				}
				return add(v, at)
			})
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	if !sawVulns {
		return nil, w.ErrAt(jsonguard.Pos{}, "not an Acunetix 360 JSON report: no Vulnerabilities array")
	}
	if key == "" && len(waiting) > 0 {
		return nil, w.ErrAt(waiting[0].at, "vulnerabilities without a Target naming the scanned URL")
	}
	rep := &importers.Report{
		Format:      format360,
		ScannerName: "Acunetix 360",
		StartedAt:   reportTime(target.Initiated),
		FinishedAt:  reportTime(generated),
		Assets:      st.assets.Assets(),
		Findings:    fs.Findings(),
		Target:      st.target,
		Warnings:    append(warnings, w.Warnings()...),
	}
	return importers.Bounded(rep, nil)
}
