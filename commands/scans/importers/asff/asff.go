// Package asff parses AWS Security Finding Format reports (ASFF, schema 2018-10-08) into the
// normalised importers.Report: the output of `aws securityhub get-findings` ({"Findings": […],
// "NextToken": …}), the BatchImportFindings shape Trivy's `--format template` asff template
// writes ({"Findings": […]}), the same object with the member spelled "findings" (boto3 scripts,
// DefectDojo's AWS Security Hub import), an EventBridge event holding them in detail.findings
// ("Security Hub Findings - Imported"), or a bare array of findings.
//
// # What is read
//
// Every finding becomes a finding, none is dropped. Its first resource (Resources[0]) is its
// asset: an AwsEcrContainerImage with Details.AwsEcrContainerImage.ImageDigest is a
// container_image identified by that digest; a Trivy "Container" resource is a container_image
// named after Details.Container.ImageName; any other resource whose Id is an ARN, or whose Type
// is an AWS type (AwsAccount, AwsEc2Instance, …), is a cloud_resource identified by that Id (an
// EC2 instance also carries its IPv4 addresses); anything else (Trivy's "Other" file resources) is
// a repository named after the Id, which only the report's Target identifies. A finding without
// resources is attached to its AWS account. Further resources are named in the evidence.
//
// CVEs, CVSS ratings (Version, BaseVector, BaseScore, Source) and the first vulnerable package
// come from Vulnerabilities[]; for Trivy's template, which writes none, from Details.Other ("CVE
// ID", "PkgName", "Installed Package", "Patched Package", "NvdCvss{Score,Vector}V{2,3}").
// Remediation.Recommendation gives the remediation and a reference, Types and GeneratorId the
// evidence, GeneratorId the RuleID.
//
// Severity: Severity.Label, else FindingProviderFields.Severity.Label (CRITICAL, HIGH, MEDIUM,
// LOW map to the same word, INFORMATIONAL to info), else Severity.Normalized on the ASFF scale (0
// info, 1–39 low, 40–69 medium, 70–89 high, 90–100 critical), else info.
//
// Status: Workflow.Status (or the deprecated WorkflowState) SUPPRESSED marks the finding
// Suppressed as accepted and RESOLVED as resolved; RecordState ARCHIVED and a Compliance.Status of
// PASSED (a control check that passed) mark it resolved. The import service decides what those
// hints do.
//
// # Fingerprints
//
// A fingerprint is the hex SHA-256 of the JSON array ["asff/v1", ProductArn, Id] when Id is an
// ARN: ASFF requires Id to be unique and stable per product, and AWS services write finding ARNs.
// Third-party producers are less careful (Trivy's template writes the file name as the Id of
// every secret in it, and target/CVE for a CVE in two packages), so a non-ARN Id adds the Title:
// ["asff/v1", ProductArn, Id, Title]. A finding without Id uses ["asff/v1", ProductArn,
// GeneratorId, first resource Id]. Findings that still share a fingerprint are merged into one.
//
// # Limits
//
// As the other jsonguard parsers: Parser.MaxBytes (512 MiB by default), Parser.MaxDepth (128),
// positioned *importers.ParseError, ctx.Err() unwrapped on cancellation.
package asff

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonwalk"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "asff"

// schemaVersion is the only ASFF schema AWS has published.
const schemaVersion = "2018-10-08"

// Parser parses ASFF reports. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns an ASFF parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head starts an ASFF report: an object whose Findings member (capital F,
// as AWS writes it; "findings", or an EventBridge event's detail.findings) is an array, or a bare
// array, whose first element has the ASFF SchemaVersion or both a ProductArn and an AwsAccountId.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	var first string
	switch {
	case p[""] == "{" && p["/Findings"] == "[":
		first = "/Findings/0"
	case p[""] == "{" && p["/findings"] == "[":
		first = "/findings/0"
	case p[""] == "{" && p["/detail"] == "{" && p["/detail/findings"] == "[":
		first = "/detail/findings/0"
	case p[""] == "[":
		first = "/0"
	default:
		return false
	}
	if p[first] != "{" {
		return false
	}
	if strings.HasPrefix(p[first+"/SchemaVersion"], schemaVersion) {
		return true
	}
	_, product := p[first+"/ProductArn"]
	_, account := p[first+"/AwsAccountId"]
	return product && account
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:     formatName,
		Title:    "AWS Security Hub findings (ASFF: aws securityhub get-findings, Trivy --format template asff)",
		Family:   "cloud",
		Versions: []string{"ASFF " + schemaVersion},
		Detection: `an object whose "Findings" (or "findings", or an EventBridge event's "detail.findings") array, or an array whose first element, has SchemaVersion ` +
			schemaVersion + ` or both ProductArn and AwsAccountId`,
		Fingerprint: []string{"ProductArn", "Id (an ARN)", "Title (when Id is not an ARN)", "GeneratorId + Resources[0].Id (when there is no Id)"},
		Severity: map[string]importers.Severity{
			"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium,
			"LOW": importers.Low, "INFORMATIONAL": importers.Info,
			"Normalized 90-100": importers.Critical, "Normalized 70-89": importers.High,
			"Normalized 40-69": importers.Medium, "Normalized 1-39": importers.Low, "Normalized 0": importers.Info,
		},
		Notes: "The first resource is the asset: ECR image by digest, AWS resources by ARN or account id, " +
			"other resources weakly by name. Workflow.Status SUPPRESSED marks a finding accepted; RESOLVED, " +
			"RecordState ARCHIVED and Compliance.Status PASSED mark it resolved. Paginated get-findings output " +
			"is imported one page per file.",
	}
}

// Wire types: only the fields used.

type aSeverity struct {
	Label      string          `json:"Label"`
	Normalized jsonwalk.Scalar `json:"Normalized"`
	Original   jsonwalk.Scalar `json:"Original"`
}

type aResource struct {
	Type    string `json:"Type"`
	ID      string `json:"Id"`
	Region  string `json:"Region"`
	Details struct {
		AwsEcrContainerImage *struct {
			RepositoryName string   `json:"RepositoryName"`
			ImageDigest    string   `json:"ImageDigest"`
			ImageTags      []string `json:"ImageTags"`
		} `json:"AwsEcrContainerImage"`
		AwsEc2Instance *struct {
			IPv4Addresses []string `json:"IpV4Addresses"`
		} `json:"AwsEc2Instance"`
		Container *struct {
			ImageName string `json:"ImageName"`
		} `json:"Container"`
		Other map[string]jsonwalk.Scalar `json:"Other"`
	} `json:"Details"`
}

type aVuln struct {
	ID   string `json:"Id"`
	Cvss []struct {
		Version    string          `json:"Version"`
		BaseScore  jsonguard.Score `json:"BaseScore"`
		BaseVector string          `json:"BaseVector"`
		Source     string          `json:"Source"`
	} `json:"Cvss"`
	VulnerablePackages []struct {
		Name           string `json:"Name"`
		Version        string `json:"Version"`
		FixedInVersion string `json:"FixedInVersion"`
		PackageManager string `json:"PackageManager"`
		FilePath       string `json:"FilePath"`
	} `json:"VulnerablePackages"`
	ReferenceUrls []string `json:"ReferenceUrls"`
}

type aFinding struct {
	SchemaVersion         string                       `json:"SchemaVersion"`
	ID                    string                       `json:"Id"`
	ProductArn            string                       `json:"ProductArn"`
	GeneratorID           string                       `json:"GeneratorId"`
	AwsAccountID          string                       `json:"AwsAccountId"`
	Types                 []string                     `json:"Types"`
	Title                 string                       `json:"Title"`
	Description           string                       `json:"Description"`
	SourceURL             string                       `json:"SourceUrl"`
	CreatedAt             string                       `json:"CreatedAt"`
	Severity              aSeverity                    `json:"Severity"`
	FindingProviderFields struct{ Severity aSeverity } `json:"FindingProviderFields"`
	Resources             []aResource                  `json:"Resources"`
	Vulnerabilities       []aVuln                      `json:"Vulnerabilities"`
	Compliance            struct{ Status string }      `json:"Compliance"`
	Workflow              struct{ Status string }      `json:"Workflow"`
	WorkflowState         string                       `json:"WorkflowState"`
	RecordState           string                       `json:"RecordState"`
	Remediation           struct {
		Recommendation struct {
			Text string `json:"Text"`
			URL  string `json:"Url"`
		} `json:"Recommendation"`
	} `json:"Remediation"`
}

// required are the members a fingerprint is made of: a wrong type there refuses the report,
// elsewhere the member is left out with a warning.
var required = []string{"Id", "ProductArn", "GeneratorId", "Title", "Resources.Id"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	b := builder{Builder: parseutil.Builder{Report: &importers.Report{Format: formatName, ScannerName: "AWS Security Hub"}}}
	tol := jsonguard.Tolerant{Required: required, Warn: b.Warn}
	if w.Next() == '[' {
		err = jsonguard.EachDocument(w, "Findings", tol, b.add)
	} else {
		err = findingsDocument(w, tol, b.add)
	}
	if err != nil {
		return nil, err
	}
	return b.Bounded(w.Warnings())
}

// findingsDocument reads an object whose Findings member is the array of findings. boto3 users
// and DefectDojo's "AWS Security Hub Scan" write the member as "findings"; either spelling is
// read (one of them: a report with both is refused, as it is unclear which is the report). An
// EventBridge event ("Security Hub Findings - Imported", as a rule forwarding findings stores
// it) holds the array in its detail member.
func findingsDocument(w *jsonguard.Walker, tol jsonguard.Tolerant, keep func(aFinding)) error {
	saw := ""
	var members func(where string) func(k string) error
	members = func(where string) func(k string) error {
		return func(k string) error {
			switch {
			case k == "Findings" || k == "findings":
				if saw != "" {
					return w.ErrAt(jsonguard.Pos{}, "both "+saw+" and "+where+k+" members: not one ASFF report")
				}
				saw = where + k
				return jsonguard.Each(w, k, tol, keep)
			case k == "detail" && where == "":
				return w.Object("detail", members("detail."))
			}
			return w.Skip()
		}
	}
	err := w.Document("report", members(""))
	if err == nil && saw == "" {
		err = w.ErrAt(jsonguard.Pos{}, "not an ASFF report: no Findings array")
	}
	return err
}

// builder turns findings into the report as they are decoded, one at a time.
type builder struct {
	parseutil.Builder
	schemas []string
}

func (b *builder) add(a aFinding) {
	asset := b.asset(&a)
	f := importers.Finding{
		AssetKey:    asset.Key,
		Title:       parseutil.FirstNonEmpty(a.Title, a.GeneratorID, a.ID),
		RuleID:      a.GeneratorID,
		Description: a.Description,
		Remediation: a.Remediation.Recommendation.Text,
	}
	f.Severity, f.ScannerSeverity = severity(a.Severity, a.FindingProviderFields.Severity)
	f.References = parseutil.AddUnique(nil, a.Remediation.Recommendation.URL, a.SourceURL)
	if asset.Kind == importers.ContainerImage {
		f.Location.Image = asset.ImageName
	}
	for _, v := range a.Vulnerabilities {
		addVuln(&f, &v)
	}
	if len(a.Resources) > 0 {
		other(&f, a.Resources[0].Details.Other)
	}
	f.Evidence = evidence(&a)
	f.Suppressed = status(&a)
	f.Fingerprint = fingerprint(&a)
	if a.SchemaVersion != "" && a.SchemaVersion != schemaVersion && !slices.Contains(b.schemas, "schema "+a.SchemaVersion) {
		b.schemas = append(b.schemas, "schema "+a.SchemaVersion)
		b.Warn(fmt.Sprintf("SchemaVersion %q is not %s: read as %s", a.SchemaVersion, schemaVersion, schemaVersion))
	}
	if b.Report.StartedAt.IsZero() {
		if t, err := time.Parse(time.RFC3339Nano, a.CreatedAt); err == nil {
			b.Report.StartedAt = t
		}
	}
	if strings.Contains(a.ProductArn, "/aquasecurity/") || strings.HasPrefix(a.GeneratorID, "Trivy") {
		b.Report.ScannerName = "Trivy"
	}
	b.Findings.Add(f)
}

// asset returns the asset of a's first resource, added to the set on first sight.
func (b *builder) asset(a *aFinding) *importers.Asset {
	var res aResource
	if len(a.Resources) > 0 {
		res = a.Resources[0]
	} else {
		res = aResource{Type: "AwsAccount", ID: "AWS::::Account:" + a.AwsAccountID}
		if a.AwsAccountID == "" {
			res.ID = "unknown"
		}
	}
	key := res.Type + ":" + res.ID
	if have := b.Assets.Get(key); have != nil {
		return have
	}
	asset := importers.Asset{Key: key, Kind: importers.CloudResource, Name: res.ID}
	d := &res.Details
	switch {
	case d.AwsEcrContainerImage != nil && d.AwsEcrContainerImage.ImageDigest != "":
		img := d.AwsEcrContainerImage
		asset.Kind, asset.ImageDigest, asset.ImageName = importers.ContainerImage, img.ImageDigest, img.RepositoryName
		asset.Name = img.RepositoryName
		if len(img.ImageTags) > 0 {
			asset.Name += ":" + img.ImageTags[0]
		}
	case d.Container != nil && d.Container.ImageName != "":
		asset.Kind, asset.Name, asset.ImageName = importers.ContainerImage, d.Container.ImageName, d.Container.ImageName
		b.target(asset.Name)
	case strings.HasPrefix(res.ID, "arn:") || strings.HasPrefix(res.Type, "Aws"):
		asset.CloudID = res.ID
		if d.AwsEc2Instance != nil {
			asset.IPs = parseutil.AddUnique(nil, d.AwsEc2Instance.IPv4Addresses...)
		}
	default:
		asset.Kind = importers.Repository
		b.target(res.ID)
	}
	return b.Assets.Add(asset)
}

// target names the report's target after the first resource with no stable identifier.
func (b *builder) target(name string) {
	if b.Report.Target == nil && name != "" {
		b.Report.Target = &importers.Target{Name: name, Hint: "artifact"}
	}
}

// labels maps ASFF severity labels.
var labels = map[string]importers.Severity{
	"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium,
	"LOW": importers.Low, "INFORMATIONAL": importers.Info,
}

func severity(own, provider aSeverity) (importers.Severity, string) {
	for _, s := range []aSeverity{own, provider} {
		label := strings.ToUpper(strings.TrimSpace(s.Label))
		if sev, ok := labels[label]; ok {
			return sev, label
		}
	}
	n, err := parseutil.Number(string(own.Normalized), 0, 100)
	if err != nil || n == nil {
		return importers.Info, ""
	}
	word := "Normalized " + string(own.Normalized)
	switch {
	case *n >= 90:
		return importers.Critical, word
	case *n >= 70:
		return importers.High, word
	case *n >= 40:
		return importers.Medium, word
	case *n >= 1:
		return importers.Low, word
	}
	return importers.Info, word
}

func addVuln(f *importers.Finding, v *aVuln) {
	parseutil.AddAdvisoryIDsCapped(f, v.ID)
	for _, c := range v.Cvss {
		if version, ok := parseutil.CVSSVersion(c.Version, c.BaseVector); ok {
			f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: version, Vector: c.BaseVector, Score: c.BaseScore.Ptr(), Source: c.Source})
		}
	}
	f.References = parseutil.AddUnique(f.References, v.ReferenceUrls...)
	if f.Component == nil && len(v.VulnerablePackages) > 0 {
		p := v.VulnerablePackages[0]
		f.Component = &importers.Component{Name: p.Name, Version: p.Version, FixedVersion: p.FixedInVersion,
			Type: strings.ToLower(p.PackageManager), Path: p.FilePath}
		f.Location.File = p.FilePath
	}
}

// other reads what Trivy's template puts in a resource's Details.Other in place of
// Vulnerabilities.
func other(f *importers.Finding, o map[string]jsonwalk.Scalar) {
	if len(o) == 0 {
		return
	}
	get := func(k string) string { return strings.TrimSpace(string(o[k])) }
	if c, ok := parseutil.NormCVE(get("CVE ID")); ok {
		f.CVEs = parseutil.AddUnique(f.CVEs, c)
	}
	for _, v := range []string{"V3", "V2"} {
		vector := get("NvdCvssVector" + v)
		score, _ := parseutil.Number(get("NvdCvssScore"+v), 0, 10)
		version, ok := parseutil.CVSSVersion(v, vector)
		if ok && vector != "" {
			f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: version, Vector: vector, Score: score, Source: "nvd"})
		}
	}
	if name := get("PkgName"); name != "" && f.Component == nil {
		f.Component = &importers.Component{Name: name, Version: get("Installed Package"), FixedVersion: get("Patched Package")}
	}
	if file := get("Filename"); file != "" && f.Location.File == "" {
		f.Location.File = file
	}
}

func evidence(a *aFinding) string {
	var lines []string
	if a.GeneratorID != "" {
		lines = append(lines, "Generator: "+a.GeneratorID)
	}
	if len(a.Types) > 0 {
		lines = append(lines, "Types: "+strings.Join(a.Types, "; "))
	}
	if s := a.Compliance.Status; s != "" {
		lines = append(lines, "Compliance: "+s)
	}
	for i, res := range a.Resources {
		if i > 0 {
			lines = append(lines, "Also affects: "+res.Type+" "+res.ID)
		}
	}
	return parseutil.Truncate(strings.Join(lines, "\n"), parseutil.MaxEvidence)
}

// status is the finding's own verdict, from the workflow first (what a person decided), then
// the record state and the control's result.
func status(a *aFinding) *importers.Suppression {
	wf := strings.ToUpper(parseutil.FirstNonEmpty(a.Workflow.Status, a.WorkflowState))
	switch {
	case wf == "SUPPRESSED":
		return &importers.Suppression{Kind: importers.SuppressedAccepted, Reason: "Workflow.Status SUPPRESSED", Source: "asff Workflow.Status"}
	case wf == "RESOLVED":
		return &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "Workflow.Status RESOLVED", Source: "asff Workflow.Status"}
	case strings.EqualFold(a.RecordState, "ARCHIVED"):
		return &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "RecordState ARCHIVED", Source: "asff RecordState"}
	case strings.EqualFold(a.Compliance.Status, "PASSED"):
		return &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "Compliance.Status PASSED", Source: "asff Compliance.Status"}
	}
	return nil
}

func fingerprint(a *aFinding) string {
	switch {
	case strings.HasPrefix(a.ID, "arn:"):
		return parseutil.FingerprintJSON("asff/v1", a.ProductArn, a.ID)
	case a.ID != "":
		return parseutil.FingerprintJSON("asff/v1", a.ProductArn, a.ID, a.Title)
	}
	res := ""
	if len(a.Resources) > 0 {
		res = a.Resources[0].ID
	}
	return parseutil.FingerprintJSON("asff/v1", a.ProductArn, a.GeneratorID, res)
}
