// Package importers holds the normalised model of a scanner report and the port every scanner
// parser implements (one sub-package per format). Parsers only translate: they never touch the
// event store, never compute CVSS scores (the vulns context recomputes them from the vectors) and
// never decide lifecycle; the import service does that from the normalised Report.
package importers

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Severity is the normalised severity of a finding.
type Severity string

const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// AssetKind is what a discovered asset is.
type AssetKind string

const (
	Host           AssetKind = "host"
	ContainerImage AssetKind = "container_image"
	Repository     AssetKind = "repository"
	WebApplication AssetKind = "web_application"
	CloudResource  AssetKind = "cloud_resource"
)

// Report is one parsed scanner report. Every string it holds is bounded, whatever the report
// held: MaxText for descriptions, remediations and suppression reasons, MaxEvidenceText for
// evidence, MaxShortText for every other string and list entry, MaxListItems entries per list
// (a cut string ends with TruncMark, and Warnings say what was cut; see Report.Bound).
type Report struct {
	Format         string    `json:"format"` // "nmap", "trivy", "grype", "sarif", "nessus", "openvas", "zap", "cyclonedx"
	ScannerName    string    `json:"scanner_name"`
	ScannerVersion string    `json:"scanner_version,omitempty"`
	StartedAt      time.Time `json:"started_at,omitempty"`
	FinishedAt     time.Time `json:"finished_at,omitempty"`
	Assets         []Asset   `json:"assets"`
	Findings       []Finding `json:"findings"`
	// Target is what the report names as the thing it scanned, for reports whose assets carry
	// no stable identifier (no digest, repository URL, IP or cloud id): the import service may
	// use it as a weak identity. Nil when the report names nothing.
	Target *Target `json:"target,omitempty"`
	// Warnings are what the parser tolerated instead of refusing the report: an optional field
	// of an unexpected shape that was skipped, results of a kind the model does not hold (e.g.
	// "3 license results ignored"). Each is one sentence naming the field or position; the
	// import service shows them to the user. Nil when there is nothing to say.
	Warnings []string `json:"warnings,omitempty"`
}

// EmptyWarning is the warning of an empty report (no bytes, or white space only) that its
// format reads as a report with no findings: the formats whose scanners write an empty file when
// they find nothing (Nuclei's -jsonl -o) accept one, and say so with this warning, so that a clean
// scan imports; the others refuse it (see importertest.Spec.EmptyIsReport).
const EmptyWarning = "empty report: no findings"

// Target is the report's own name for what it scanned.
type Target struct {
	// Name is the name as the report writes it: an artifact name ("alpine:3.10", "."), a base
	// URL, a scan root, a task or policy name.
	Name string `json:"name"`
	// Hint says what Name is, so that two names are only compared when they mean the same
	// thing: "artifact" (Trivy ArtifactName, Grype source target), "tool_path" (SARIF: driver
	// name and the root the URIs are relative to, "tool:root"), "base_url" (ZAP site), "scan"
	// (Nessus report / policy name, OpenVAS task name, nmap command line), "component"
	// (CycloneDX metadata.component, "name@version").
	Hint string `json:"hint"`
}

// Asset is an asset as the report identifies it. Key links findings to it within the report.
type Asset struct {
	Key         string    `json:"key"`
	Kind        AssetKind `json:"kind"`
	Name        string    `json:"name"`
	IPs         []string  `json:"ips,omitempty"`
	Hostnames   []string  `json:"hostnames,omitempty"`
	MACs        []string  `json:"macs,omitempty"` // upper-case, colon-separated
	OS          string    `json:"os,omitempty"`
	ImageName   string    `json:"image_name,omitempty"`
	ImageDigest string    `json:"image_digest,omitempty"` // "sha256:…"
	PURL        string    `json:"purl,omitempty"`
	RepoURL     string    `json:"repo_url,omitempty"`
	BaseURL     string    `json:"base_url,omitempty"`
	CloudID     string    `json:"cloud_id,omitempty"`
	Services    []Service `json:"services,omitempty"`
}

// Service is an open port seen on a host.
type Service struct {
	Port     int      `json:"port"`
	Protocol string   `json:"protocol"` // tcp, udp, sctp
	State    string   `json:"state"`    // open, closed, filtered, …
	Name     string   `json:"name,omitempty"`
	Product  string   `json:"product,omitempty"`
	Version  string   `json:"version,omitempty"`
	CPEs     []string `json:"cpes,omitempty"`
}

// CVSS is one CVSS rating given by the report.
type CVSS struct {
	Version string   `json:"version"` // "2.0", "3.0", "3.1", "4.0"
	Vector  string   `json:"vector,omitempty"`
	Score   *float64 `json:"score,omitempty"`  // the scanner's own score, kept beside the recomputed one
	Source  string   `json:"source,omitempty"` // e.g. "nvd", "ghsa", "redhat", the scanner
}

// Component is the package a finding is in.
type Component struct {
	PURL         string `json:"purl,omitempty"`
	Name         string `json:"name"`
	Version      string `json:"version,omitempty"`
	FixedVersion string `json:"fixed_version,omitempty"`
	Type         string `json:"type,omitempty"` // npm, maven, deb, rpm, apk, gem, …
	Path         string `json:"path,omitempty"` // file that declared it (lockfile, jar)
}

// Location is where a finding is.
type Location struct {
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Protocol string `json:"protocol,omitempty"`
	URL      string `json:"url,omitempty"`
	Method   string `json:"method,omitempty"`
	Param    string `json:"param,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Image    string `json:"image,omitempty"`
}

// Finding is one normalised finding.
type Finding struct {
	AssetKey        string     `json:"asset_key"`
	Fingerprint     string     `json:"fingerprint"` // stable per format; see each parser's doc
	Title           string     `json:"title"`
	Severity        Severity   `json:"severity"`
	ScannerSeverity string     `json:"scanner_severity,omitempty"` // as the report said it
	CVSS            []CVSS     `json:"cvss,omitempty"`
	CVEs            []string   `json:"cves,omitempty"`
	GHSAs           []string   `json:"ghsas,omitempty"`
	CWEs            []string   `json:"cwes,omitempty"` // "CWE-79"
	RuleID          string     `json:"rule_id,omitempty"`
	Component       *Component `json:"component,omitempty"`
	Location        Location   `json:"location"`
	Description     string     `json:"description,omitempty"`
	Remediation     string     `json:"remediation,omitempty"`
	References      []string   `json:"references,omitempty"`
	Evidence        string     `json:"evidence,omitempty"`
	// VEXState is a CycloneDX analysis state (resolved, exploitable, in_triage, false_positive,
	// not_affected) when the report carries one.
	VEXState         string `json:"vex_state,omitempty"`
	VEXJustification string `json:"vex_justification,omitempty"`
	// Kind is what the finding is: "" for a vulnerability or weakness (every finding before
	// Kind existed), KindLicense for a license result (Trivy "Class": "license"), which has no
	// CVE and no SLA meaning of its own.
	Kind FindingKind `json:"kind,omitempty"`
	// Locations holds every place a finding was reported at when there are several (a SARIF
	// result's locations[]): one finding carries them all, Location being Locations[0]. The
	// fingerprint is that of the first location, as before Locations existed, so reimports
	// match. Nil when the finding has one location.
	Locations []Location `json:"locations,omitempty"`
	// Suppressed is the report's own verdict that the finding needs no work, as a status hint
	// for the import service's lifecycle (the parser decides nothing): a SARIF suppression, a
	// Trivy Status of not_affected / end_of_life / will_not_fix (not "fixed": a fixed version
	// exists, the installed one is still vulnerable), a CycloneDX analysis state. Nil when the report says the finding is open (or says nothing).
	Suppressed *Suppression `json:"suppressed,omitempty"`
}

// FindingKind is what a finding is, when it is not a vulnerability or weakness.
type FindingKind string

// KindLicense is a license finding: a package under a license the scanner's policy flags.
const KindLicense FindingKind = "license"

// SuppressionKind is the lifecycle state a report's verdict maps to.
type SuppressionKind string

const (
	// SuppressedFalsePositive: the finding is wrong (CycloneDX false_positive; a SARIF
	// suppression, i.e. someone marked the result as not a problem where it is).
	SuppressedFalsePositive SuppressionKind = "false_positive"
	// SuppressedNotAffected: the vulnerability is real but does not affect the asset (Trivy and
	// CycloneDX not_affected).
	SuppressedNotAffected SuppressionKind = "not_affected"
	// SuppressedResolved: already fixed (CycloneDX "resolved").
	SuppressedResolved SuppressionKind = "resolved"
	// SuppressedAccepted: the risk is accepted, no fix will come (Trivy "will_not_fix" and
	// "end_of_life": the vendor will ship no fix).
	SuppressedAccepted SuppressionKind = "accepted"
)

// Suppression is a report's verdict that a finding needs no work.
type Suppression struct {
	Kind SuppressionKind `json:"kind"`
	// Reason is the report's words: a SARIF suppression's justification, a CycloneDX analysis
	// justification and detail, the Trivy status itself.
	Reason string `json:"reason,omitempty"`
	// Source says where the verdict was read: "sarif suppression (inSource)", "trivy Status",
	// "cyclonedx analysis".
	Source string `json:"source"`
}

// FormatInfo documents a format for users choosing how to import (GET /v1/scans/formats and
// `soc import --list-formats`): what is accepted, how a file is recognised, what makes two
// findings the same across imports and how the scanner's severities map to ours.
type FormatInfo struct {
	// Name is Parser.Format(): the value of ?format= and --format.
	Name string `json:"name"`
	// Title is the scanner and report, as users know them ("Semgrep JSON (semgrep --json)").
	Title string `json:"title"`
	// Family groups formats: "sast", "secrets", "dependencies", "containers", "dast",
	// "infrastructure", "cloud", "sbom" or "generic".
	Family string `json:"family"`
	// Versions are the scanner or schema versions accepted, as ranges or names ("1.x", "2.0–2.1").
	Versions []string `json:"versions"`
	// Detection says what auto-detection looks for in the head of a file.
	Detection string `json:"detection"`
	// Fingerprint names the fields whose values identify a finding across imports, in order.
	Fingerprint []string `json:"fingerprint"`
	// Severity maps the scanner's severity values (or the rule that derives them) to ours.
	Severity map[string]Severity `json:"severity"`
	// Notes is anything else a user must know (what is ignored, how suppressions map), or "".
	Notes string `json:"notes,omitempty"`
}

// Describer is a Parser that documents its format. Every parser of the platform implements it
// (a test in the import service checks that), so that the format list is never out of date.
type Describer interface {
	Info() FormatInfo
}

// Parser reads one report format.
type Parser interface {
	// Format is the name used in ?format= and in Report.Format.
	Format() string
	// Detect reports whether head (the first bytes of a file, up to 64 KiB) looks like this format.
	Detect(head []byte) bool
	// Parse reads a whole report. Errors are *ParseError naming the position.
	Parse(ctx context.Context, r io.Reader) (*Report, error)
}

// ParseError is a report that could not be read, with where.
type ParseError struct {
	Format string
	Offset int64 // byte offset, -1 when unknown
	Line   int   // 1-based, 0 when unknown
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	switch {
	case e.Line > 0:
		return fmt.Sprintf("%s report: line %d, column %d: %s", e.Format, e.Line, e.Column, e.Msg)
	case e.Offset >= 0:
		return fmt.Sprintf("%s report: byte %d: %s", e.Format, e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s report: %s", e.Format, e.Msg)
}
