package app

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/vulns/cvss"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
)

// Bounds of the FindingOpened data (mirrored by schemas/events/vulns/FindingOpened.v1.json).
// Longer strings are cut with TruncationMarker at the end; longer lists are cut.
const (
	MaxTitle         = 1024
	MaxDescription   = 64 << 10
	MaxEvidence      = 64 << 10
	MaxRemediation   = 16 << 10
	MaxShort         = 256  // ids, names, versions, severities
	MaxURL           = 4096 // references, urls, paths, purls, vectors
	MaxIDs           = 256  // cves, ghsas, cwes
	MaxReferences    = 256
	MaxCVSS          = 32
	TruncationMarker = "…[truncated]"
)

// clip returns s cut to at most max bytes (so at most max characters), on a rune boundary, ending
// with TruncationMarker when it was cut. Invalid UTF-8 is replaced.
func clip(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= max {
		return s
	}
	cut := max - len(TruncationMarker)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + TruncationMarker
}

func clipList(in []string, maxItems, maxLen int) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(in), maxItems))
	seen := make(map[string]struct{}, len(in))
	for _, v := range in {
		if v = clip(strings.TrimSpace(v), maxLen); v == "" {
			continue
		}
		if _, dup := seen[v]; dup {
			continue
		}
		seen[v] = struct{}{}
		if len(out) == maxItems {
			break
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// severityOf normalises a parser severity; anything unknown is info.
func severityOf(s importers.Severity) vulns.Severity {
	switch v := vulns.Severity(strings.ToLower(string(s))); v {
	case vulns.Critical, vulns.High, vulns.Medium, vulns.Low, vulns.Info:
		return v
	}
	return vulns.Info
}

// cvssData is one CVSS rating in FindingOpened: the scanner's score beside the one recomputed from
// the vector (v3.0, v3.1, v4.0); Error says why a vector could not be scored.
type cvssData struct {
	Version      string   `json:"version"`
	Vector       string   `json:"vector,omitempty"`
	Score        *float64 `json:"score,omitempty"`
	ScannerScore *float64 `json:"scanner_score,omitempty"`
	Source       string   `json:"source,omitempty"`
	Severity     string   `json:"severity,omitempty"`
	Error        string   `json:"error,omitempty"`
}

func cvssOf(in []importers.CVSS) []cvssData {
	if len(in) == 0 {
		return nil
	}
	out := make([]cvssData, 0, min(len(in), MaxCVSS))
	for _, c := range in {
		if len(out) == MaxCVSS {
			break
		}
		d := cvssData{Version: clip(c.Version, 16), Vector: clip(c.Vector, MaxURL), Source: clip(c.Source, MaxShort)}
		if d.Version == "" {
			d.Version = "unknown"
		}
		if c.Score != nil && *c.Score >= 0 && *c.Score <= 10 {
			s := *c.Score
			d.ScannerScore = &s
		}
		switch c.Version {
		case "3.0", "3.1", "4.0":
			if c.Vector == "" {
				break
			}
			r, err := cvss.Score(c.Vector)
			if err != nil {
				d.Error = clip(err.Error(), 1024)
				break
			}
			s := r.Score
			d.Score, d.Severity = &s, r.Severity
		}
		out = append(out, d)
	}
	return out
}

type componentData struct {
	PURL         string `json:"purl,omitempty"`
	Name         string `json:"name"`
	Version      string `json:"version,omitempty"`
	FixedVersion string `json:"fixed_version,omitempty"`
	Type         string `json:"type,omitempty"`
	Path         string `json:"path,omitempty"`
}

type locationData struct {
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

// findingOpenedData is the data of FindingOpened (schemas/events/vulns/FindingOpened.v1.json).
type findingOpenedData struct {
	AssetID          string         `json:"asset_id"`
	Scope            string         `json:"scope"`
	IdentityKey      string         `json:"identity_key"`
	Fingerprint      string         `json:"fingerprint"`
	ScanID           string         `json:"scan_id"`
	Format           string         `json:"format"`
	Scanner          string         `json:"scanner,omitempty"`
	Title            string         `json:"title"`
	Severity         vulns.Severity `json:"severity"`
	ScannerSeverity  string         `json:"scanner_severity,omitempty"`
	CVSS             []cvssData     `json:"cvss,omitempty"`
	CVEs             []string       `json:"cves,omitempty"`
	GHSAs            []string       `json:"ghsas,omitempty"`
	CWEs             []string       `json:"cwes,omitempty"`
	RuleID           string         `json:"rule_id,omitempty"`
	Component        *componentData `json:"component,omitempty"`
	Location         *locationData  `json:"location,omitempty"`
	Description      string         `json:"description,omitempty"`
	Remediation      string         `json:"remediation,omitempty"`
	References       []string       `json:"references,omitempty"`
	Evidence         string         `json:"evidence,omitempty"`
	VEXState         string         `json:"vex_state,omitempty"`
	VEXJustification string         `json:"vex_justification,omitempty"`
	SeenAt           time.Time      `json:"seen_at"`
}

func openedData(f *importers.Finding, assetID, scope, key, scanID string, rep *importers.Report, at time.Time) findingOpenedData {
	d := findingOpenedData{
		AssetID: assetID, Scope: scope, IdentityKey: key, Fingerprint: clip(f.Fingerprint, 512),
		ScanID: scanID, Format: rep.Format, Scanner: clip(rep.ScannerName, MaxShort),
		Title: clip(f.Title, MaxTitle), Severity: severityOf(f.Severity), ScannerSeverity: clip(f.ScannerSeverity, MaxShort),
		CVSS: cvssOf(f.CVSS), CVEs: clipList(f.CVEs, MaxIDs, 64), GHSAs: clipList(f.GHSAs, MaxIDs, 64),
		CWEs: clipList(f.CWEs, MaxIDs, 64), RuleID: clip(f.RuleID, 1024),
		Description: clip(f.Description, MaxDescription), Remediation: clip(f.Remediation, MaxRemediation),
		References: clipList(f.References, MaxReferences, MaxURL), Evidence: clip(f.Evidence, MaxEvidence),
		VEXState: clip(f.VEXState, 64), VEXJustification: clip(f.VEXJustification, 1024), SeenAt: at.UTC(),
	}
	if strings.TrimSpace(d.Title) == "" {
		d.Title = firstNonEmpty(d.RuleID, strings.Join(d.CVEs, ", "), "untitled finding")
		d.Title = clip(d.Title, MaxTitle)
	}
	if c := f.Component; c != nil {
		d.Component = &componentData{PURL: clip(c.PURL, MaxURL), Name: clip(c.Name, 1024), Version: clip(c.Version, MaxShort),
			FixedVersion: clip(c.FixedVersion, 1024), Type: clip(c.Type, 64), Path: clip(c.Path, MaxURL)}
	}
	l := f.Location
	if l != (importers.Location{}) {
		d.Location = &locationData{Host: clip(l.Host, 1024), Port: l.Port, Protocol: clip(l.Protocol, 32), URL: clip(l.URL, MaxURL),
			Method: clip(l.Method, 32), Param: clip(l.Param, 1024), File: clip(l.File, MaxURL), Line: l.Line, Column: l.Column,
			Image: clip(l.Image, 1024)}
		if d.Location.Port < 0 || d.Location.Port > 65535 {
			d.Location.Port = 0
		}
		if d.Location.Line < 0 {
			d.Location.Line = 0
		}
		if d.Location.Column < 0 {
			d.Location.Column = 0
		}
	}
	return d
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// findingSeenData is the data of FindingSeen: a scan saw the finding again. Severity is set only
// when the scan rates it differently from before (PreviousSeverity then says what it was).
type findingSeenData struct {
	ScanID           string         `json:"scan_id"`
	SeenAt           time.Time      `json:"seen_at"`
	Severity         vulns.Severity `json:"severity,omitempty"`
	PreviousSeverity vulns.Severity `json:"previous_severity,omitempty"`
}

// BySeverity counts a report's findings by normalised severity.
type BySeverity struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Medium   int `json:"medium"`
	Low      int `json:"low"`
	Info     int `json:"info"`
}

func (b *BySeverity) add(s vulns.Severity) {
	switch s {
	case vulns.Critical:
		b.Critical++
	case vulns.High:
		b.High++
	case vulns.Medium:
		b.Medium++
	case vulns.Low:
		b.Low++
	default:
		b.Info++
	}
}

// Summary is what an import did; ScanImportCompleted carries the same numbers.
type Summary struct {
	ScanID        string     `json:"scan_id"`
	Format        string     `json:"format"`
	FindingsTotal int        `json:"findings_total"`
	BySeverity    BySeverity `json:"by_severity"`
	// New: FindingOpened. Unchanged: FindingSeen (active, false positive, risk-accepted or
	// duplicate findings seen again). Reopened: FindingReopened (was resolved or closed).
	// Resolved: FindingResolved (active, not seen by this scan). Closed: FindingClosed (resolved
	// before, still not seen).
	New       int `json:"new"`
	Unchanged int `json:"unchanged"`
	Reopened  int `json:"reopened"`
	Resolved  int `json:"resolved"`
	Closed    int `json:"closed"`
	// Skipped: findings recorded nowhere, because the report gives their asset no usable
	// identifier, or because the same finding (same identity) is listed twice in the report.
	Skipped          int `json:"skipped"`
	AssetsDiscovered int `json:"assets_discovered"`
	AssetsMatched    int `json:"assets_matched"`
	// Warnings say what was skipped and why (at most MaxWarnings).
	Warnings []string `json:"warnings,omitempty"`
}

// MaxWarnings bounds Summary.Warnings.
const MaxWarnings = 100

func (s *Summary) warn(msg string) {
	if len(s.Warnings) < MaxWarnings {
		s.Warnings = append(s.Warnings, clip(msg, 1024))
	}
}
