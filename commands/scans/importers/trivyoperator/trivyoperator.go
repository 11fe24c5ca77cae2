// Package trivyoperator parses the reports Trivy Operator keeps as Kubernetes custom resources
// (aquasecurity.github.io/v1alpha1): VulnerabilityReport and the check reports
// (ConfigAuditReport, ClusterConfigAuditReport, RbacAssessmentReport,
// ClusterRbacAssessmentReport, InfraAssessmentReport, ClusterInfraAssessmentReport),
// ExposedSecretReport and ClusterComplianceReport, as YAML or JSON: one resource, several YAML
// documents, a list (`kubectl get vulnerabilityreports -A -o yaml|json`: kind List or <Kind>List
// with items), a JSON array of resources, or an object whose members are named after the
// resource types (vulnerabilityreports.aquasecurity.github.io: [...], ...), as scripts dumping
// every report of a cluster write it.
//
// # What is read
//
// A VulnerabilityReport is about a container image: the asset is a container_image named
// registry.server/artifact.repository with artifact.tag, keyed by the digest
// (registry/repository@digest) when the report has one, else by registry/repository:tag (and
// the report's Target names that tag, a weak identity). Each report.vulnerabilities[] entry is a
// finding: vulnerabilityID the RuleID (and CVE or GHSA), resource, installedVersion and
// fixedVersion the component, title the title, primaryLink and links the references, score the
// scanner's CVSS v3 base score (no vector is given; none is computed), severity the severity.
// The workload the image runs in (the trivy-operator.resource.* and container labels) is named
// in the evidence: several workloads running one image give one finding per vulnerability.
//
// A check report is about a Kubernetes workload (or, for the cluster-scoped kinds, a cluster
// resource): the asset is a cloud_resource named namespace/kind/name from the
// trivy-operator.resource.namespace, .kind and .name labels (else metadata.namespace and the
// owner reference), with CloudID "k8s:" + that name. Each report.checks[] entry with success
// false is a finding (passed checks are not): checkID the RuleID, title, description,
// remediation, messages the evidence, category kept in the description. A check without a
// checkID (custom policies) is named by its title.
//
// An ExposedSecretReport is about an image, as a VulnerabilityReport: each report.secrets[]
// entry is a finding (ruleID, else title, the RuleID; target the file; the masked match the
// evidence). A ClusterComplianceReport is about the cluster, which it does not name (a
// cloud_resource "cluster", key k8s:cluster): each failed check of status.detailReport is a
// finding (control id and checkID the RuleID, target the resource), and each control of
// status.summaryReport with totalFail above 0 is one.
//
// Resources of other kinds Trivy Operator writes (SbomReport, ClusterSbomReport) are counted in
// a warning, not imported.
//
// Severity: CRITICAL, HIGH, MEDIUM, LOW map to the same severities; UNKNOWN (and anything else)
// is derived from the score when there is one (>=9 critical, >=7 high, >=4 medium, >0 low),
// else info. ScannerSeverity keeps Trivy's word.
//
// # Fingerprints
//
// A vulnerability's fingerprint is the hex SHA-256 of the JSON array ["trivy-operator/v1",
// image, vulnerabilityID, resource, installedVersion], image being the asset key (the image with
// its digest, else its tag); a failed check's is that of ["trivy-operator/check/v1", kind of
// report, checkID, workload] with workload namespace/kind/name. Report names, timestamps and
// hashes, which Trivy Operator rewrites on every scan, are left out. A secret's is that of
// ["trivy-operator/secret/v1", image, ruleID (else title), target]; a compliance finding's that of
// ["trivy-operator/compliance/v1", report name, control id, checkID, target] (detail) or
// ["trivy-operator/compliance/v1", report name, control id] (summary). A check's checkID is its
// title when it has none.
//
// # Limits and YAML safety
//
// YAML is read with go.yaml.in/yaml/v3 one document at a time from a reader that stops at
// Parser.MaxBytes (32 MiB by default) and checks the context. Every document is first read
// into a node tree, whose aliases are not expanded; a document holding any anchor or alias is
// refused (Kubernetes never writes them), so alias bombs ("billion laughs") cost nothing, and
// the library refuses nesting deeper than 10000. YAML has no end marker: a report cut at a line
// end may read as a whole, shorter one (a check cut before its success value is refused). Errors are *importers.ParseError naming a line
// and column where the YAML library or the node gives one.
package trivyoperator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

const formatName = "trivy-operator"

// DefaultMaxBytes is the largest report accepted when Parser.MaxBytes is zero: a cluster-wide
// kubectl list of some 50,000 vulnerabilities. The YAML library holds a document's text several
// times over while it scans it (about six times the document's size in allocations), so the
// bound is tighter than the JSON parsers' 512 MiB.
const DefaultMaxBytes = 32 << 20

// Parser parses Trivy Operator reports. The zero value uses the default limit.
type Parser struct {
	// MaxBytes is the largest report accepted; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// New returns a Trivy Operator parser with the default limit.
func New() importers.Parser { return &Parser{} }

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

var (
	reAPIVersion = regexp.MustCompile(`(?m)^[\s{\[,-]*"?apiVersion"?\s*:\s*"?aquasecurity\.github\.io/`)
	reKind       = regexp.MustCompile(`(?m)^[\s{\[,-]*"?kind"?\s*:\s*"?(VulnerabilityReport|ClusterVulnerabilityReport|ConfigAuditReport|ClusterConfigAuditReport|RbacAssessmentReport|ClusterRbacAssessmentReport|InfraAssessmentReport|ClusterInfraAssessmentReport|ExposedSecretReport|ClusterComplianceReport)(List)?"?\s*,?\s*$`)
)

// Detect reports whether head is a Trivy Operator resource or list of them, in YAML or JSON
// (pretty-printed, as kubectl writes it): an aquasecurity.github.io apiVersion and the kind of a
// report this parser reads.
func (*Parser) Detect(head []byte) bool {
	return reAPIVersion.Match(head) && reKind.Match(head)
}

// Info implements importers.Describer.
func (*Parser) Info() importers.FormatInfo {
	return importers.FormatInfo{
		Name:     formatName,
		Title:    "Trivy Operator VulnerabilityReport, ConfigAuditReport and the other reports (Kubernetes resources, YAML or JSON)",
		Family:   "containers",
		Versions: []string{"aquasecurity.github.io/v1alpha1"},
		Detection: "YAML or JSON with an aquasecurity.github.io apiVersion and a kind of VulnerabilityReport, ConfigAuditReport, " +
			"RbacAssessmentReport, InfraAssessmentReport, ExposedSecretReport, ClusterComplianceReport (or their Cluster and List forms)",
		Fingerprint: []string{"vulnerabilities: image (digest, else tag)", "vulnerabilityID", "resource", "installedVersion",
			"checks: report kind", "checkID (else title)", "workload (namespace/kind/name)",
			"secrets: image", "ruleID (else title)", "target",
			"compliance: report name", "control id", "checkID", "target"},
		Severity: map[string]importers.Severity{
			"CRITICAL": importers.Critical, "HIGH": importers.High, "MEDIUM": importers.Medium, "LOW": importers.Low,
			"UNKNOWN": importers.Info, // or from the score when there is one
		},
		Notes: "Only failed checks are findings. The asset is the image (vulnerability reports) or the Kubernetes workload " +
			"(check reports, a cloud_resource named namespace/kind/name; the cluster is not named in the report). " +
			"Documents with YAML anchors or aliases are refused. Secrets of ExposedSecretReports are findings on the image; " +
			"failed controls of ClusterComplianceReports findings on the cluster (key k8s:cluster, unnamed in the report). " +
			"Also read: a JSON array of resources, or an object keyed by resource type (<plural>.aquasecurity.github.io). " +
			"SbomReport resources are not imported.",
	}
}

// Wire types: only the fields used.

type resource struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name            string            `yaml:"name"`
		Namespace       string            `yaml:"namespace"`
		Labels          map[string]string `yaml:"labels"`
		OwnerReferences []struct {
			Kind string `yaml:"kind"`
			Name string `yaml:"name"`
		} `yaml:"ownerReferences"`
	} `yaml:"metadata"`
	Report struct {
		UpdateTimestamp string `yaml:"updateTimestamp"`
		Scanner         struct {
			Name    string `yaml:"name"`
			Version string `yaml:"version"`
		} `yaml:"scanner"`
		Registry struct {
			Server string `yaml:"server"`
		} `yaml:"registry"`
		Artifact struct {
			Repository string `yaml:"repository"`
			Tag        string `yaml:"tag"`
			Digest     string `yaml:"digest"`
		} `yaml:"artifact"`
		OS struct {
			Family string `yaml:"family"`
			Name   string `yaml:"name"`
		} `yaml:"os"`
		Vulnerabilities []vulnerability `yaml:"vulnerabilities"`
		Checks          []check         `yaml:"checks"`
		Secrets         []secret        `yaml:"secrets"`
	} `yaml:"report"`
	// Spec and Status are a ClusterComplianceReport's: the controls of the benchmark, and the
	// outcome as a detailReport (every check, older operators and reportType all) or a
	// summaryReport (failures counted per control).
	Spec struct {
		Compliance struct {
			Controls []struct {
				ID          string `yaml:"id"`
				Description string `yaml:"description"`
				Checks      []struct {
					ID string `yaml:"id"`
				} `yaml:"checks"`
			} `yaml:"controls"`
		} `yaml:"compliance"`
	} `yaml:"spec"`
	Status struct {
		DetailReport *struct {
			Description string `yaml:"description"`
			Results     []struct {
				ID          string  `yaml:"id"`
				Name        string  `yaml:"name"`
				Description string  `yaml:"description"`
				Severity    string  `yaml:"severity"`
				Checks      []check `yaml:"checks"`
			} `yaml:"results"`
		} `yaml:"detailReport"`
		SummaryReport *struct {
			ControlCheck []struct {
				ID       string `yaml:"id"`
				Name     string `yaml:"name"`
				Severity string `yaml:"severity"`
				// TotalFail is a string so that a quoted number reads too.
				TotalFail string `yaml:"totalFail"`
			} `yaml:"controlCheck"`
		} `yaml:"summaryReport"`
	} `yaml:"status"`
}

type vulnerability struct {
	VulnerabilityID  string   `yaml:"vulnerabilityID"`
	Resource         string   `yaml:"resource"`
	InstalledVersion string   `yaml:"installedVersion"`
	FixedVersion     string   `yaml:"fixedVersion"`
	Severity         string   `yaml:"severity"`
	Score            *float64 `yaml:"score"`
	Title            string   `yaml:"title"`
	Description      string   `yaml:"description"`
	PrimaryLink      string   `yaml:"primaryLink"`
	Links            []string `yaml:"links"`
	Target           string   `yaml:"target"`
	PkgPath          string   `yaml:"pkgPath"`
}

type check struct {
	CheckID     string   `yaml:"checkID"`
	Title       string   `yaml:"title"`
	Description string   `yaml:"description"`
	Severity    string   `yaml:"severity"`
	Category    string   `yaml:"category"`
	Remediation string   `yaml:"remediation"`
	Messages    []string `yaml:"messages"`
	Success     *bool    `yaml:"success"`
	Target      string   `yaml:"target"` // compliance checks: the resource checked
}

type secret struct {
	RuleID   string `yaml:"ruleID"`
	Category string `yaml:"category"`
	Title    string `yaml:"title"`
	Severity string `yaml:"severity"`
	Target   string `yaml:"target"`
	Match    string `yaml:"match"`
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	max := p.MaxBytes
	if max <= 0 {
		max = DefaultMaxBytes
	}
	in := &limitReader{ctx: ctx, r: r, left: max, max: max}
	dec := yaml.NewDecoder(in)
	b := &builder{Builder: parseutil.Builder{Report: &importers.Report{Format: formatName, ScannerName: "Trivy Operator"}}, skipped: map[string]int{}}
	docs := 0
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) && in.err == nil {
			break
		}
		if err != nil {
			return nil, in.wrap(err)
		}
		docs++
		if err := b.document(ctx, &doc); err != nil {
			return nil, err
		}
	}
	if docs == 0 {
		return nil, &importers.ParseError{Format: formatName, Offset: 0, Msg: "empty report: no YAML or JSON document"}
	}
	return importers.Bounded(b.report(), nil)
}

// limitReader stops at max bytes and when the context is done, remembering why.
type limitReader struct {
	ctx       context.Context
	r         io.Reader
	left, max int64
	err       error
}

var errTooLarge = errors.New("over the byte limit")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	if l.err = l.ctx.Err(); l.err != nil {
		return 0, l.err
	}
	if l.left <= 0 {
		// One byte more than max tells a report of exactly max bytes from a larger one.
		var one [1]byte
		if n, _ := io.ReadFull(l.r, one[:]); n > 0 {
			l.err = errTooLarge
			return 0, l.err
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

var reLine = regexp.MustCompile(`line (\d+)(?:, column (\d+))?`)

// wrap turns an error of the YAML decoder into a ParseError (the context's error is returned as
// it is).
func (l *limitReader) wrap(err error) error {
	if l.err != nil && !errors.Is(l.err, errTooLarge) {
		return l.err
	}
	if errors.Is(l.err, errTooLarge) {
		return &importers.ParseError{Format: formatName, Offset: l.max, Msg: fmt.Sprintf("report over the limit of %d bytes", l.max)}
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	pe := &importers.ParseError{Format: formatName, Offset: -1, Msg: msg}
	if m := reLine.FindStringSubmatch(msg); m != nil {
		pe.Line, _ = strconv.Atoi(m[1])
		pe.Column, _ = strconv.Atoi(m[2])
	} else {
		pe.Offset = l.max - l.left // where the decoder had read to
	}
	return pe
}

func errAt(n *yaml.Node, format string, args ...any) error {
	return &importers.ParseError{Format: formatName, Offset: -1, Line: max(n.Line, 1), Column: n.Column, Msg: fmt.Sprintf(format, args...)}
}

// noAliases refuses anchors and aliases anywhere in n: decoding expands aliases, and a few of
// them nested make a small document huge.
func noAliases(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return errAt(n, "YAML anchors and aliases are refused (Kubernetes resources have none)")
	}
	for _, c := range n.Content {
		if err := noAliases(c); err != nil {
			return err
		}
	}
	return nil
}

type builder struct {
	parseutil.Builder
	skipped map[string]int
}

// document reads one YAML document: a resource, a list of resources, or nothing.
func (b *builder) document(ctx context.Context, doc *yaml.Node) error {
	if err := noAliases(doc); err != nil {
		return err
	}
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil // an empty document, e.g. after a final "---"
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		// A JSON array of resources, as scripts collecting several kubectl outputs write it.
		return b.items(ctx, n)
	}
	if n.Kind != yaml.MappingNode {
		return errAt(n, "expected a Kubernetes resource (a mapping), found a %s", kindName(n))
	}
	kind, items := "", (*yaml.Node)(nil)
	byKind := 0
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i].Value; {
		case k == "kind":
			kind = n.Content[i+1].Value
		case k == "items":
			items = n.Content[i+1]
		case strings.HasSuffix(k, ".aquasecurity.github.io"):
			byKind++
		}
	}
	if kind == "" && byKind > 0 && byKind == len(n.Content)/2 {
		return b.byResourceName(ctx, n)
	}
	if kind == "List" || (strings.HasSuffix(kind, "List") && items != nil) {
		if items == nil || (items.Kind != yaml.SequenceNode && items.Tag != "!!null") {
			return errAt(n, "%s without an items list", kind)
		}
		return b.items(ctx, items)
	}
	return b.resource(n)
}

// byResourceName reads the object a script dumping every Trivy Operator resource writes: each
// member named after the resource type (vulnerabilityreports.aquasecurity.github.io, …), its
// value the list of resources (an array, or a kubectl List object). SBOM reports are skipped
// with a warning as in any other shape.
func (b *builder) byResourceName(ctx context.Context, n *yaml.Node) error {
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := n.Content[i+1]
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		case v.Kind == yaml.SequenceNode:
			if err := b.items(ctx, v); err != nil {
				return err
			}
		case v.Kind == yaml.MappingNode:
			if err := b.document(ctx, v); err != nil {
				return err
			}
		default:
			return errAt(v, "%s: expected a list of resources, found a %s", parseutil.TruncateEllipsis(n.Content[i].Value, 64), kindName(v))
		}
	}
	return nil
}

// items reads a list of resources.
func (b *builder) items(ctx context.Context, items *yaml.Node) error {
	for _, item := range items.Content {
		if err := ctx.Err(); err != nil {
			return err
		}
		if item.Kind != yaml.MappingNode {
			return errAt(item, "expected a Kubernetes resource in items, found a %s", kindName(item))
		}
		if err := b.resource(item); err != nil {
			return err
		}
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "node"
}

var reLineInMsg = regexp.MustCompile(`^line (\d+): `)

func (b *builder) resource(n *yaml.Node) error {
	var res resource
	if err := n.Decode(&res); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			msg := te.Errors[0]
			line := n.Line
			if m := reLineInMsg.FindStringSubmatch(msg); m != nil {
				line, _ = strconv.Atoi(m[1])
				msg = msg[len(m[0]):]
			}
			return &importers.ParseError{Format: formatName, Offset: -1, Line: max(line, 1), Msg: msg}
		}
		return errAt(n, "%v", err)
	}
	if !strings.HasPrefix(res.APIVersion, "aquasecurity.github.io/") {
		return errAt(n, "not a Trivy Operator resource: apiVersion %q, kind %q", parseutil.TruncateEllipsis(res.APIVersion, 64), parseutil.TruncateEllipsis(res.Kind, 64))
	}
	if t, err := time.Parse(time.RFC3339, res.Report.UpdateTimestamp); err == nil && t.After(b.Report.FinishedAt) {
		b.Report.FinishedAt = t.UTC()
	}
	if v := res.Report.Scanner.Version; v != "" && b.Report.ScannerVersion == "" {
		b.Report.ScannerVersion = "trivy " + v
	}
	switch res.Kind {
	case "VulnerabilityReport", "ClusterVulnerabilityReport":
		return b.vulnerabilities(n, &res)
	case "ConfigAuditReport", "ClusterConfigAuditReport", "RbacAssessmentReport", "ClusterRbacAssessmentReport", "InfraAssessmentReport", "ClusterInfraAssessmentReport":
		return b.checks(n, &res)
	case "ExposedSecretReport":
		return b.secrets(n, &res)
	case "ClusterComplianceReport":
		return b.compliance(&res)
	}
	b.skipped[res.Kind]++
	return nil
}

func (b *builder) report() *importers.Report {
	kinds := make([]string, 0, len(b.skipped))
	for k := range b.skipped {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		b.Warn(fmt.Sprintf("%d %s resources not imported", b.skipped[k], parseutil.TruncateEllipsis(k, 64)))
	}
	return b.Built()
}

// workload is namespace/kind/name of the resource a report is about.
func workload(res *resource) string {
	l := res.Metadata.Labels
	kind, name := l["trivy-operator.resource.kind"], l["trivy-operator.resource.name"]
	if kind == "" && len(res.Metadata.OwnerReferences) > 0 {
		kind, name = res.Metadata.OwnerReferences[0].Kind, res.Metadata.OwnerReferences[0].Name
	}
	ns := parseutil.FirstNonEmpty(l["trivy-operator.resource.namespace"], res.Metadata.Namespace)
	name = parseutil.FirstNonEmpty(name, res.Metadata.Name)
	if ns == "" {
		return kind + "/" + name // cluster-scoped
	}
	return ns + "/" + kind + "/" + name
}

// image adds the container image a VulnerabilityReport or ExposedSecretReport is about as an
// asset: its key, the image as tagged, and the workload evidence the findings carry.
func (b *builder) image(n *yaml.Node, res *resource) (key, tagged, where string, err error) {
	art := &res.Report.Artifact
	if strings.TrimSpace(art.Repository) == "" {
		return "", "", "", errAt(n, "%s %q has no report.artifact.repository", res.Kind, parseutil.TruncateEllipsis(res.Metadata.Name, 64))
	}
	image := art.Repository
	if s := strings.TrimSpace(res.Report.Registry.Server); s != "" && s != "index.docker.io" {
		image = s + "/" + image
	}
	tagged = image
	if art.Tag != "" {
		tagged += ":" + art.Tag
	}
	key = "image:" + tagged
	if art.Digest != "" {
		key = "image:" + image + "@" + art.Digest
	}
	if b.Assets.Get(key) == nil {
		a := importers.Asset{Key: key, Kind: importers.ContainerImage, Name: tagged, ImageName: tagged, ImageDigest: art.Digest}
		if os := strings.TrimSpace(res.Report.OS.Family + " " + res.Report.OS.Name); os != "" {
			a.OS = os
		}
		b.Assets.Add(a)
	}
	if art.Digest == "" && b.Report.Target == nil {
		b.Report.Target = &importers.Target{Name: tagged, Hint: "artifact"}
	}
	where = "Workload " + workload(res)
	if c := res.Metadata.Labels["trivy-operator.container.name"]; c != "" {
		where += ", container " + c
	}
	return key, tagged, where, nil
}

func (b *builder) vulnerabilities(n *yaml.Node, res *resource) error {
	key, tagged, where, err := b.image(n, res)
	if err != nil {
		return err
	}
	for i := range res.Report.Vulnerabilities {
		v := &res.Report.Vulnerabilities[i]
		if strings.TrimSpace(v.VulnerabilityID) == "" {
			return errAt(n, "report.vulnerabilities[%d] has no vulnerabilityID", i)
		}
		if v.Score != nil && (*v.Score < 0 || *v.Score > 10) {
			return errAt(n, "report.vulnerabilities[%d].score %v is not in [0, 10]", i, *v.Score)
		}
		f := importers.Finding{
			AssetKey:        key,
			RuleID:          v.VulnerabilityID,
			Title:           v.VulnerabilityID + " in " + strings.TrimSpace(v.Resource+" "+v.InstalledVersion),
			ScannerSeverity: v.Severity,
			Description:     parseutil.FirstNonEmpty(v.Description, v.Title),
			References:      parseutil.AddUnique(nil, append([]string{v.PrimaryLink}, v.Links...)...),
			Component:       &importers.Component{Name: v.Resource, Version: v.InstalledVersion, FixedVersion: v.FixedVersion, Path: v.PkgPath},
			Location:        importers.Location{Image: tagged, File: v.PkgPath},
			Evidence:        where,
		}
		if v.Title != "" {
			f.Title = v.VulnerabilityID + ": " + v.Title
		}
		if c, ok := parseutil.NormCVE(v.VulnerabilityID); ok {
			f.CVEs = []string{c}
		} else if g, ok := parseutil.NormGHSA(v.VulnerabilityID); ok {
			f.GHSAs = []string{g}
		}
		if v.Score != nil {
			f.CVSS = []importers.CVSS{{Version: "3.1", Score: v.Score, Source: "trivy"}}
		}
		if v.FixedVersion != "" {
			f.Remediation = "Upgrade " + v.Resource + " to " + v.FixedVersion + "."
		}
		f.Severity = parseutil.WordOrScore(v.Severity, v.Score)
		f.Fingerprint = parseutil.FingerprintJSON("trivy-operator/v1", key, v.VulnerabilityID, v.Resource, v.InstalledVersion)
		b.Findings.Add(f)
	}
	return nil
}

func (b *builder) checks(n *yaml.Node, res *resource) error {
	name := workload(res)
	key := "k8s:" + name
	var failed []*check
	for i := range res.Report.Checks {
		c := &res.Report.Checks[i]
		if c.Success == nil {
			// Trivy Operator always writes it; a YAML report cut after "success:" reads as null.
			return errAt(n, "report.checks[%d] has no success", i)
		}
		if !*c.Success {
			failed = append(failed, c)
		}
	}
	// The workload is an asset even when every check passed: a reimport then resolves what failed before.
	if b.Assets.Get(key) == nil {
		b.Assets.Add(importers.Asset{Key: key, Kind: importers.CloudResource, Name: name, CloudID: key})
	}
	for _, c := range failed {
		// A check without a checkID (custom policies may lack one) is named by its title.
		id := parseutil.FirstNonEmpty(strings.TrimSpace(c.CheckID), strings.TrimSpace(c.Title))
		if id == "" {
			return errAt(n, "a failed check of report.checks has no checkID and no title")
		}
		f := importers.Finding{
			AssetKey:        key,
			RuleID:          id,
			Title:           parseutil.FirstNonEmpty(c.Title, c.CheckID),
			ScannerSeverity: c.Severity,
			Description:     c.Description,
			Remediation:     c.Remediation,
			Evidence:        parseutil.Truncate(strings.Join(c.Messages, "\n"), parseutil.MaxEvidence),
		}
		if c.Category != "" {
			f.Description = strings.TrimSpace(f.Description + "\n\nCategory: " + c.Category)
		}
		f.Severity = parseutil.WordOrScore(c.Severity, nil)
		f.Fingerprint = parseutil.FingerprintJSON("trivy-operator/check/v1", res.Kind, id, name)
		b.Findings.Add(f)
	}
	return nil
}

// secrets reads an ExposedSecretReport: each secret found in the image is a finding on it.
func (b *builder) secrets(n *yaml.Node, res *resource) error {
	if len(res.Report.Secrets) == 0 && strings.TrimSpace(res.Report.Artifact.Repository) == "" {
		return nil // nothing found, and no image named to resolve earlier findings on
	}
	key, tagged, where, err := b.image(n, res)
	if err != nil {
		return err
	}
	for i := range res.Report.Secrets {
		sec := &res.Report.Secrets[i]
		id := parseutil.FirstNonEmpty(strings.TrimSpace(sec.RuleID), strings.TrimSpace(sec.Title))
		if id == "" {
			return errAt(n, "report.secrets[%d] has no ruleID and no title", i)
		}
		f := importers.Finding{
			AssetKey:        key,
			RuleID:          id,
			Title:           "Secret in " + parseutil.FirstNonEmpty(sec.Target, tagged) + ": " + parseutil.FirstNonEmpty(sec.Title, id),
			ScannerSeverity: sec.Severity,
			Description:     strings.TrimSpace(parseutil.FirstNonEmpty(sec.Title, id) + "\n\nCategory: " + sec.Category),
			Remediation:     "Remove the secret from the image and rotate it.",
			Location:        importers.Location{Image: tagged, File: sec.Target},
			// Trivy masks the secret in match; it is kept as evidence.
			Evidence: parseutil.Truncate(strings.TrimSpace(where+"\n"+sec.Match), parseutil.MaxEvidence),
		}
		f.Severity = parseutil.WordOrScore(sec.Severity, nil)
		f.Fingerprint = parseutil.FingerprintJSON("trivy-operator/secret/v1", key, id, sec.Target)
		b.Findings.Add(f)
	}
	return nil
}

// clusterKey is the asset of a ClusterComplianceReport: the cluster, which the report does not
// name (as for the cluster-scoped check reports, attach the import to an asset to tell clusters
// apart).
const clusterKey = "k8s:cluster"

// compliance reads a ClusterComplianceReport: with a detailReport, each failed check of a
// control is a finding (control id, checkID and target); with a summaryReport, each control
// with failures is one (its checks named from spec.compliance.controls).
func (b *builder) compliance(res *resource) error {
	if b.Assets.Get(clusterKey) == nil {
		b.Assets.Add(importers.Asset{Key: clusterKey, Kind: importers.CloudResource, Name: "cluster", CloudID: clusterKey})
	}
	name := res.Metadata.Name
	if d := res.Status.DetailReport; d != nil {
		for _, r := range d.Results {
			for i := range r.Checks {
				c := &r.Checks[i]
				if c.Success == nil || *c.Success {
					continue
				}
				word := parseutil.FirstNonEmpty(c.Severity, r.Severity)
				f := importers.Finding{
					AssetKey:        clusterKey,
					RuleID:          strings.TrimSpace(r.ID + " " + c.CheckID),
					Title:           strings.TrimSpace(r.ID + " " + parseutil.FirstNonEmpty(c.Title, r.Name) + " " + c.Target),
					ScannerSeverity: word,
					Description:     strings.TrimSpace(r.Name + "\n\n" + parseutil.FirstNonEmpty(c.Description, r.Description)),
					Remediation:     c.Remediation,
					Evidence:        parseutil.Truncate(strings.TrimSpace("Target "+c.Target+"\n"+strings.Join(c.Messages, "\n")), parseutil.MaxEvidence),
				}
				f.Severity = parseutil.WordOrScore(word, nil)
				f.Fingerprint = parseutil.FingerprintJSON("trivy-operator/compliance/v1", name, r.ID, c.CheckID, c.Target)
				b.Findings.Add(f)
			}
		}
	}
	if sr := res.Status.SummaryReport; sr != nil {
		for _, cc := range sr.ControlCheck {
			fails, err := strconv.Atoi(strings.TrimSpace(parseutil.FirstNonEmpty(cc.TotalFail, "0")))
			if err != nil {
				b.Warn(fmt.Sprintf("control %s: totalFail %q is not a number: read as failed",
					parseutil.TruncateEllipsis(cc.ID, 64), parseutil.TruncateEllipsis(cc.TotalFail, 64)))
				fails = 1
			}
			if fails <= 0 {
				continue
			}
			f := importers.Finding{
				AssetKey:        clusterKey,
				RuleID:          cc.ID,
				Title:           strings.TrimSpace(cc.ID + " " + cc.Name),
				ScannerSeverity: cc.Severity,
				Evidence:        fmt.Sprintf("%d failed", fails),
			}
			for _, ctl := range res.Spec.Compliance.Controls {
				if ctl.ID != cc.ID {
					continue
				}
				f.Description = ctl.Description
				for _, ch := range ctl.Checks {
					f.Evidence += "\nCheck " + ch.ID
				}
			}
			f.Severity = parseutil.WordOrScore(cc.Severity, nil)
			f.Fingerprint = parseutil.FingerprintJSON("trivy-operator/compliance/v1", name, cc.ID)
			b.Findings.Add(f)
		}
	}
	return nil
}
