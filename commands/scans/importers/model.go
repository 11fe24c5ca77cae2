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

// Report is one parsed scanner report.
type Report struct {
	Format         string    `json:"format"` // "nmap", "trivy", "grype", "sarif", "nessus", "openvas", "zap", "cyclonedx"
	ScannerName    string    `json:"scanner_name"`
	ScannerVersion string    `json:"scanner_version,omitempty"`
	StartedAt      time.Time `json:"started_at,omitempty"`
	FinishedAt     time.Time `json:"finished_at,omitempty"`
	Assets         []Asset   `json:"assets"`
	Findings       []Finding `json:"findings"`
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
