// Package inspector2 parses Amazon Inspector (v2) findings, the output of `aws inspector2
// list-findings` ({"findings": […], "nextToken": …}) or one finding as an EventBridge event
// ("Inspector2 Finding": the finding is its detail member), into the normalised importers.Report.
//
// # What is read
//
// Every finding becomes a finding, whatever its type: PACKAGE_VULNERABILITY (CVE or other
// vulnerabilityId, CVSS ratings from packageVulnerabilityDetails.cvss, the first vulnerable
// package as the component, the others named in the evidence), NETWORK_REACHABILITY (the open
// port range and protocol as the location, the network path in the evidence) and
// CODE_VULNERABILITY (the detector's rule, CWEs and the file and line). The first resource is
// the asset: an AWS_ECR_CONTAINER_IMAGE is a container_image identified by its imageHash; an
// AWS_EC2_INSTANCE is a cloud_resource identified by the instance's ARN (built from the
// partition, region, account and instance id, as Security Hub writes it, so that both formats
// name the same asset) with its IPv4 addresses; any other resource (AWS_LAMBDA_FUNCTION,
// AWS_ECR_REPOSITORY, …) is a cloud_resource identified by its id (an ARN).
//
// Severity: CRITICAL, HIGH, MEDIUM and LOW map to the same word, INFORMATIONAL to info; UNTRIAGED
// (or anything else) is derived from inspectorScore, else from the highest CVSS score (>=9
// critical, >=7 high, >=4 medium, >0 low), else info. Status SUPPRESSED (a suppression rule
// matched) marks the finding Suppressed as accepted, CLOSED as resolved. EPSS and exploit
// availability go to the evidence: the model has no field for them.
//
// # Fingerprints
//
// The hex SHA-256 of the JSON array ["aws-inspector2/v1", findingArn]: Inspector keeps one
// finding ARN per issue on a resource for the finding's life, across rescans. A finding without
// an ARN uses ["aws-inspector2/v1", type, vulnerabilityId or ruleId, resource id, package names,
// port range].
//
// # Limits
//
// As the other jsonguard parsers: Parser.MaxBytes (512 MiB by default), Parser.MaxDepth (128),
// positioned *importers.ParseError, ctx.Err() unwrapped on cancellation.
package inspector2

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonguard"
	"github.com/socplatform/soc/commands/scans/importers/internal/jsonwalk"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "aws-inspector2"

// Parser parses Inspector2 findings. The zero value uses the default limits.
type Parser struct{ jsonguard.Limits }

// New returns an Inspector2 parser with the default limits.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether head starts a list-findings response: an object whose findings array
// starts with an object that has a findingArn.
func (*Parser) Detect(head []byte) bool {
	p := jsonguard.HeadPaths(head)
	if detectEvent(p) {
		return true
	}
	if p[""] != "{" || p["/findings"] != "[" || p["/findings/0"] != "{" {
		return false
	}
	_, arn := p["/findings/0/findingArn"]
	return arn
}

// detectEvent: an EventBridge event whose detail is a finding.
func detectEvent(p map[string]string) bool {
	_, arn := p["/detail/findingArn"]
	return p[""] == "{" && p["/detail"] == "{" && arn
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:        formatName,
		Title:       "Amazon Inspector findings (aws inspector2 list-findings)",
		Family:      "cloud",
		Versions:    []string{"Inspector2 API 2020-06-08"},
		Detection:   `an object whose "findings" array starts with an object that has a "findingArn", or whose "detail" object (an EventBridge event) has one`,
		Fingerprint: []string{"findingArn", "type + vulnerabilityId/ruleId + resource id + packages + ports (when there is no findingArn)"},
		Severity: map[string]importers.Severity{
			"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium,
			"LOW": importers.Low, "INFORMATIONAL": importers.Info,
			"UNTRIAGED (no score)": importers.Info,
		},
		Notes: "UNTRIAGED and unknown severities are derived from inspectorScore, else the highest CVSS score " +
			"(>=9 critical, >=7 high, >=4 medium, >0 low), else info. The first resource is the asset: ECR images by imageHash, EC2 instances by ARN (the same asset as in " +
			"ASFF), other resources by their ARN. Status SUPPRESSED marks a finding accepted, CLOSED resolved. " +
			"EPSS and exploitAvailable are kept in the evidence. Paginated output is imported one page per file.",
	}
}

// Wire types: only the fields used.

type iResource struct {
	Type      string `json:"type"`
	ID        string `json:"id"`
	Partition string `json:"partition"`
	Region    string `json:"region"`
	Details   struct {
		AwsEcrContainerImage *struct {
			ImageHash      string   `json:"imageHash"`
			ImageTags      []string `json:"imageTags"`
			RepositoryName string   `json:"repositoryName"`
			Platform       string   `json:"platform"`
		} `json:"awsEcrContainerImage"`
		AwsEc2Instance *struct {
			IPv4Addresses []string `json:"ipV4Addresses"`
			Platform      string   `json:"platform"`
		} `json:"awsEc2Instance"`
	} `json:"details"`
}

type iPackage struct {
	Name           string          `json:"name"`
	Version        string          `json:"version"`
	Release        string          `json:"release"`
	Epoch          jsonwalk.Scalar `json:"epoch"`
	FixedInVersion string          `json:"fixedInVersion"`
	PackageManager string          `json:"packageManager"`
	FilePath       string          `json:"filePath"`
	Remediation    string          `json:"remediation"`
}

type iFinding struct {
	FindingArn       string          `json:"findingArn"`
	AwsAccountID     string          `json:"awsAccountId"`
	Type             string          `json:"type"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	Severity         string          `json:"severity"`
	Status           string          `json:"status"`
	FirstObservedAt  string          `json:"firstObservedAt"`
	InspectorScore   jsonguard.Score `json:"inspectorScore"`
	ExploitAvailable string          `json:"exploitAvailable"`
	FixAvailable     string          `json:"fixAvailable"`
	Epss             struct {
		Score jsonwalk.Scalar `json:"score"`
	} `json:"epss"`
	Resources                   []iResource `json:"resources"`
	PackageVulnerabilityDetails *struct {
		VulnerabilityID string `json:"vulnerabilityId"`
		Source          string `json:"source"`
		SourceURL       string `json:"sourceUrl"`
		Cvss            []struct {
			BaseScore     jsonguard.Score `json:"baseScore"`
			ScoringVector string          `json:"scoringVector"`
			Source        string          `json:"source"`
			Version       string          `json:"version"`
		} `json:"cvss"`
		ReferenceUrls          []string   `json:"referenceUrls"`
		RelatedVulnerabilities []string   `json:"relatedVulnerabilities"`
		VulnerablePackages     []iPackage `json:"vulnerablePackages"`
	} `json:"packageVulnerabilityDetails"`
	NetworkReachabilityDetails *struct {
		OpenPortRange struct {
			Begin int `json:"begin"`
			End   int `json:"end"`
		} `json:"openPortRange"`
		Protocol    string `json:"protocol"`
		NetworkPath struct {
			Steps []struct {
				ComponentID   string `json:"componentId"`
				ComponentType string `json:"componentType"`
			} `json:"steps"`
		} `json:"networkPath"`
	} `json:"networkReachabilityDetails"`
	CodeVulnerabilityDetails *struct {
		Cwes         []string `json:"cwes"`
		DetectorID   string   `json:"detectorId"`
		DetectorName string   `json:"detectorName"`
		RuleID       string   `json:"ruleId"`
		FilePath     struct {
			FilePath  string           `json:"filePath"`
			StartLine jsonguard.LineNo `json:"startLine"`
		} `json:"filePath"`
		ReferenceUrls []string `json:"referenceUrls"`
	} `json:"codeVulnerabilityDetails"`
	Remediation struct {
		Recommendation struct {
			Text string `json:"text"`
			URL  string `json:"Url"`
		} `json:"recommendation"`
	} `json:"remediation"`
}

// required are the members a fingerprint is made of.
var required = []string{"findingArn", "type", "resources.id", "packageVulnerabilityDetails.vulnerabilityId", "codeVulnerabilityDetails.ruleId"}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	w, err := jsonguard.Open(ctx, formatName, r, p.MaxBytes, p.MaxDepth)
	if err != nil {
		return nil, err
	}
	b := builder{parseutil.Builder{Report: &importers.Report{Format: formatName, ScannerName: "Amazon Inspector"}}}
	tol := jsonguard.Tolerant{Required: required, Warn: b.Warn}
	saw := false
	err = w.Document("report", func(k string) error {
		switch k {
		case "findings":
			saw = true
			return jsonguard.Each(w, k, tol, b.add)
		case "detail":
			// An EventBridge event ("Inspector2 Finding") carries one finding as its detail.
			saw = true
			var f iFinding
			_, err := w.DecodeTolerant(&f, "detail", tol)
			b.add(f)
			return err
		}
		return w.Skip()
	})
	if err == nil && !saw {
		err = w.ErrAt(jsonguard.Pos{}, "not an Inspector2 findings list: no findings array")
	}
	if err != nil {
		return nil, err
	}
	return b.Bounded(w.Warnings())
}

// builder turns findings into the report as they are decoded, one at a time.
type builder struct{ parseutil.Builder }

func (b *builder) add(in iFinding) {
	asset := b.asset(&in)
	f := importers.Finding{
		AssetKey:    asset.Key,
		Title:       parseutil.FirstNonEmpty(in.Title, in.Type, in.FindingArn),
		RuleID:      in.Type,
		Description: in.Description,
		Remediation: in.Remediation.Recommendation.Text,
		References:  parseutil.AddUnique(nil, in.Remediation.Recommendation.URL),
	}
	if asset.Kind == importers.ContainerImage {
		f.Location.Image = asset.Name
	}
	if len(asset.IPs) > 0 {
		f.Location.Host = asset.IPs[0]
	}
	var ev []string
	var fp []string
	if v := in.PackageVulnerabilityDetails; v != nil {
		f.RuleID = parseutil.FirstNonEmpty(v.VulnerabilityID, f.RuleID)
		parseutil.AddAdvisoryIDsCapped(&f, v.VulnerabilityID)
		parseutil.AddAdvisoryIDsCapped(&f, v.RelatedVulnerabilities...)
		for _, c := range v.Cvss {
			if version, ok := parseutil.CVSSVersion(c.Version, c.ScoringVector); ok {
				f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: version, Vector: c.ScoringVector, Score: c.BaseScore.Ptr(), Source: c.Source})
			}
		}
		f.References = parseutil.AddUnique(f.References, v.SourceURL)
		f.References = parseutil.AddUnique(f.References, v.ReferenceUrls...)
		for i, pkg := range v.VulnerablePackages {
			fp = append(fp, pkg.Name+"@"+pkg.Version)
			if i == 0 {
				f.Component = component(pkg)
				f.Location.File = pkg.FilePath
				continue
			}
			ev = append(ev, "Also in "+pkg.Name+" "+version(pkg)+fixed(pkg))
		}
	}
	if n := in.NetworkReachabilityDetails; n != nil {
		f.Location.Port, f.Location.Protocol = n.OpenPortRange.Begin, strings.ToLower(n.Protocol)
		ports := strconv.Itoa(n.OpenPortRange.Begin) + "-" + strconv.Itoa(n.OpenPortRange.End)
		fp = append(fp, n.Protocol+" "+ports)
		path := make([]string, 0, len(n.NetworkPath.Steps))
		for _, s := range n.NetworkPath.Steps {
			path = append(path, s.ComponentType+" "+s.ComponentID)
		}
		ev = append(ev, "Open ports "+ports+"/"+strings.ToLower(n.Protocol)+" reachable through: "+strings.Join(path, " → "))
	}
	if c := in.CodeVulnerabilityDetails; c != nil {
		f.RuleID = parseutil.FirstNonEmpty(c.RuleID, c.DetectorID, f.RuleID)
		f.CWEs = parseutil.AddUnique(f.CWEs, parseutil.NormAll(c.Cwes, parseutil.NormCWE)...)
		f.Location.File, f.Location.Line = c.FilePath.FilePath, int(c.FilePath.StartLine)
		f.References = parseutil.AddUnique(f.References, c.ReferenceUrls...)
		if c.DetectorName != "" {
			ev = append(ev, "Detector: "+c.DetectorName)
		}
	}
	f.Severity, f.ScannerSeverity = severity(&in, f.CVSS)
	if s := strings.TrimSpace(string(in.Epss.Score)); s != "" {
		ev = append(ev, "EPSS score: "+s)
	}
	if in.ExploitAvailable != "" {
		ev = append(ev, "Exploit available: "+in.ExploitAvailable)
	}
	if in.FixAvailable != "" {
		ev = append(ev, "Fix available: "+in.FixAvailable)
	}
	f.Evidence = parseutil.Truncate(strings.Join(ev, "\n"), parseutil.MaxEvidence)
	switch strings.ToUpper(in.Status) {
	case "SUPPRESSED":
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedAccepted, Reason: "status SUPPRESSED (a suppression rule matched)", Source: "inspector2 status"}
	case "CLOSED":
		f.Suppressed = &importers.Suppression{Kind: importers.SuppressedResolved, Reason: "status CLOSED", Source: "inspector2 status"}
	}
	if in.FindingArn != "" {
		f.Fingerprint = parseutil.FingerprintJSON("aws-inspector2/v1", in.FindingArn)
	} else {
		f.Fingerprint = parseutil.FingerprintJSON(append([]string{"aws-inspector2/v1", in.Type, f.RuleID, resourceID(&in)}, fp...)...)
		b.Warn(fmt.Sprintf("finding %q has no findingArn: identified by its content", parseutil.TruncateEllipsis(f.Title, 80)))
	}
	if b.Report.StartedAt.IsZero() {
		if t, err := time.Parse(time.RFC3339Nano, in.FirstObservedAt); err == nil {
			b.Report.StartedAt = t
		}
	}
	b.Findings.Add(f)
}

func resourceID(in *iFinding) string {
	if len(in.Resources) == 0 {
		return ""
	}
	return in.Resources[0].ID
}

// asset returns the asset of in's first resource, added to the set on first sight.
func (b *builder) asset(in *iFinding) *importers.Asset {
	res := iResource{Type: "AWS_ACCOUNT", ID: "AWS::::Account:" + in.AwsAccountID}
	if len(in.Resources) > 0 {
		res = in.Resources[0]
	}
	key := res.Type + ":" + res.ID
	if have := b.Assets.Get(key); have != nil {
		return have
	}
	a := importers.Asset{Key: key, Kind: importers.CloudResource, Name: res.ID, CloudID: res.ID}
	switch d := &res.Details; {
	case d.AwsEcrContainerImage != nil && d.AwsEcrContainerImage.ImageHash != "":
		img := d.AwsEcrContainerImage
		a = importers.Asset{Key: key, Kind: importers.ContainerImage, Name: img.RepositoryName, ImageName: img.RepositoryName, ImageDigest: img.ImageHash}
		if len(img.ImageTags) > 0 {
			a.Name += ":" + img.ImageTags[0]
		}
	case strings.EqualFold(res.Type, "AWS_EC2_INSTANCE"):
		if !strings.HasPrefix(res.ID, "arn:") && res.Region != "" && in.AwsAccountID != "" {
			a.CloudID = "arn:" + parseutil.FirstNonEmpty(res.Partition, "aws") + ":ec2:" + res.Region + ":" + in.AwsAccountID + ":instance/" + res.ID
		}
		if d.AwsEc2Instance != nil {
			a.IPs = parseutil.AddUnique(nil, d.AwsEc2Instance.IPv4Addresses...)
			a.OS = d.AwsEc2Instance.Platform
		}
	}
	return b.Assets.Add(a)
}

func component(p iPackage) *importers.Component {
	return &importers.Component{Name: p.Name, Version: version(p), FixedVersion: fixedVersion(p), Type: strings.ToLower(p.PackageManager), Path: p.FilePath}
}

// version is the installed version as the package manager writes it: epoch:version-release.
func version(p iPackage) string {
	v := p.Version
	if p.Release != "" {
		v += "-" + p.Release
	}
	if e := strings.TrimSpace(string(p.Epoch)); e != "" && e != "0" {
		v = e + ":" + v
	}
	return v
}

// fixedVersion is fixedInVersion, "" when Inspector says there is none.
func fixedVersion(p iPackage) string {
	if strings.EqualFold(p.FixedInVersion, "NotAvailable") {
		return ""
	}
	return p.FixedInVersion
}

func fixed(p iPackage) string {
	if v := fixedVersion(p); v != "" {
		return ", fixed in " + v
	}
	return ", no fix available"
}

func severity(in *iFinding, ratings []importers.CVSS) (importers.Severity, string) {
	word := strings.ToUpper(strings.TrimSpace(in.Severity))
	if s, ok := parseutil.SeverityWord(strings.ToLower(word)); ok {
		return s, word
	}
	if word == "INFORMATIONAL" {
		return importers.Info, word
	}
	if in.InspectorScore.OK {
		return parseutil.SeverityFromScore(in.InspectorScore.V), word
	}
	if s, ok := parseutil.MaxScore(ratings); ok {
		return parseutil.SeverityFromScore(s), word
	}
	return importers.Info, word
}
