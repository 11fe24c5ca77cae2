package generic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonwalk"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// jEndpoint is an endpoint as JSON gives it: a URL or host string, or its parts.
type jEndpoint struct{ endpoint }

func (e *jEndpoint) UnmarshalJSON(b []byte) error {
	if jsonguard.Kind(b) == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		e.endpoint = parseEndpoint(s)
		return nil
	}
	var o struct {
		Protocol, Host, Path, Query, Fragment string
		Port                                  jsonwalk.Scalar
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	raw := o.Host
	if p := strings.TrimSpace(string(o.Port)); p != "" {
		raw += ":" + p
	}
	if o.Path != "" {
		raw += "/" + strings.TrimPrefix(o.Path, "/")
	}
	if o.Query != "" {
		raw += "?" + o.Query
	}
	if o.Fragment != "" {
		raw += "#" + o.Fragment
	}
	if o.Protocol != "" {
		raw = o.Protocol + "://" + raw
	}
	e.endpoint = parseEndpoint(raw)
	return nil
}

// idList is vulnerability_ids: a list of strings, or a single string.
type idList []string

func (l *idList) UnmarshalJSON(b []byte) error {
	if jsonguard.Kind(b) == '"' {
		var s string
		err := json.Unmarshal(b, &s)
		*l = idList{s}
		return err
	}
	return json.Unmarshal(b, (*[]string)(l))
}

type jFinding struct {
	Title            *string           `json:"title"`
	Severity         *string           `json:"severity"`
	Description      string            `json:"description"`
	Date             string            `json:"date"`
	Cwe              jsonwalk.Scalar   `json:"cwe"`
	Cwes             []jsonwalk.Scalar `json:"cwes"`
	Cve              string            `json:"cve"`
	VulnerabilityIDs idList            `json:"vulnerability_ids"`
	Cvssv3           string            `json:"cvssv3"`
	Cvssv3Score      jsonwalk.Scalar   `json:"cvssv3_score"`
	Cvssv4           string            `json:"cvssv4"`
	Cvssv4Score      jsonwalk.Scalar   `json:"cvssv4_score"`
	Mitigation       string            `json:"mitigation"`
	Impact           string            `json:"impact"`
	StepsToReproduce string            `json:"steps_to_reproduce"`
	References       string            `json:"references"`
	Active           *bool             `json:"active"`
	FalseP           bool              `json:"false_p"`
	OutOfScope       bool              `json:"out_of_scope"`
	RiskAccepted     bool              `json:"risk_accepted"`
	IsMitigated      bool              `json:"is_mitigated"`
	Param            string            `json:"param"`
	Payload          string            `json:"payload"`
	Line             jsonwalk.Scalar   `json:"line"`
	FilePath         string            `json:"file_path"`
	ComponentName    string            `json:"component_name"`
	ComponentVersion string            `json:"component_version"`
	FixVersion       string            `json:"fix_version"`
	UniqueIDFromTool string            `json:"unique_id_from_tool"`
	VulnIDFromTool   string            `json:"vuln_id_from_tool"`
	Endpoints        []jEndpoint       `json:"endpoints"`
}

// jsonRequired are the members a fingerprint is made of: a wrong type there refuses the report.
var jsonRequired = []string{"title", "severity", "unique_id_from_tool", "vuln_id_from_tool", "component_name",
	"component_version", "file_path", "endpoints"}

func (p *Parser) parseJSON(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	var b builder
	var typ, name string
	tol := jsonguard.Tolerant{Required: jsonRequired, Warn: func(m string) { b.warnings = append(b.warnings, m) }}
	err = w.DocumentWith("report", "findings", "not a generic findings report: no findings array", func(key string) error {
		switch key {
		case "findings":
			return w.Array("findings", func(i int) error {
				var f jFinding
				pos, err := w.DecodeTolerant(&f, "findings["+strconv.Itoa(i)+"]", tol)
				if err != nil {
					return err
				}
				it, msg := b.jsonItem(&f, i)
				if msg != "" {
					return w.ErrAt(pos, msg)
				}
				b.items = append(b.items, it)
				return nil
			})
		case "type":
			typ, err = w.Str()
			return err
		case "name":
			name, err = w.Str()
			return err
		}
		return w.Skip()
	})
	if err != nil {
		return nil, err
	}
	b.target = strings.TrimSpace(strings.TrimSpace(typ) + " " + strings.TrimSpace(name))
	rep := b.report()
	rep.Warnings = append(rep.Warnings, w.Warnings()...)
	return importers.Bounded(rep, nil)
}

// jsonItem reads one JSON finding; msg says why DefectDojo would refuse it.
func (b *builder) jsonItem(j *jFinding, i int) (item, string) {
	if j.Title == nil || strings.TrimSpace(*j.Title) == "" {
		return item{}, fmt.Sprintf("findings[%d]: no title (DefectDojo requires title, severity and description)", i)
	}
	if j.Severity == nil {
		return item{}, fmt.Sprintf("findings[%d]: no severity (DefectDojo requires title, severity and description)", i)
	}
	sev, ok := severity(*j.Severity)
	if !ok {
		return item{}, fmt.Sprintf("findings[%d]: severity %q is none of Critical, High, Medium, Low, Info", i, parseutil.TruncateEllipsis(*j.Severity, 40))
	}
	where := "findings[" + strconv.Itoa(i) + "]"
	it := item{uid: strings.TrimSpace(j.UniqueIDFromTool), vulnID: strings.TrimSpace(j.VulnIDFromTool),
		component: j.ComponentName, version: j.ComponentVersion, file: j.FilePath, severityWord: strings.ToLower(strings.TrimSpace(*j.Severity))}
	f := &it.f
	f.Title, f.Severity, f.ScannerSeverity = strings.TrimSpace(*j.Title), sev, *j.Severity
	f.RuleID, f.Description, f.Remediation = it.vulnID, j.Description, j.Mitigation
	f.References = references(j.References)
	f.Evidence = evidence("Impact", j.Impact, "Steps to reproduce", j.StepsToReproduce, "Payload", j.Payload)
	parseutil.AddAdvisoryIDsCapped(f, j.Cve)
	parseutil.AddAdvisoryIDsCapped(f, j.VulnerabilityIDs...)
	addCWE(f, string(j.Cwe))
	for _, c := range j.Cwes {
		addCWE(f, string(c))
	}
	b.addVector(f, j.Cvssv3, string(j.Cvssv3Score), where+".cvssv3")
	b.addVector(f, j.Cvssv4, string(j.Cvssv4Score), where+".cvssv4")
	if j.ComponentName != "" {
		f.Component = &importers.Component{Name: j.ComponentName, Version: j.ComponentVersion, FixedVersion: j.FixVersion}
	}
	f.Location.File, f.Location.Param = j.FilePath, j.Param
	if n, err := strconv.Atoi(strings.TrimSpace(string(j.Line))); err == nil && n > 0 {
		f.Location.Line = n // DefectDojo ignores a line that holds no number ("N/A") too
	}
	f.Suppressed = status(j.FalseP, j.RiskAccepted, j.OutOfScope, j.IsMitigated, j.Active != nil && !*j.Active)
	for _, e := range j.Endpoints {
		if e.Raw != "" {
			it.endpoints = append(it.endpoints, e.endpoint)
		}
	}
	return it, ""
}
