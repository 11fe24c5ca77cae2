package app

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/vulns/cvss"
	vulns "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/schemas/contracts"
)

// Bounds of the FindingOpened data (mirrored by schemas/events/vulns/FindingOpened.v2.json).
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
	MaxLocations     = 100 // a finding's locations: the SARIF results seen carry a handful
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

// cvssOf keeps a finding's CVSS ratings: the scanner's score beside the one recomputed from the
// vector (v3.0, v3.1, v4.0); Error says why a vector could not be scored.
func cvssOf(in []importers.CVSS) []contracts.FindingOpenedCVSSItem {
	if len(in) == 0 {
		return nil
	}
	out := make([]contracts.FindingOpenedCVSSItem, 0, min(len(in), MaxCVSS))
	for _, c := range in {
		if len(out) == MaxCVSS {
			break
		}
		d := contracts.FindingOpenedCVSSItem{Version: clip(c.Version, 16), Vector: clip(c.Vector, MaxURL), Source: clip(c.Source, MaxShort)}
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
			d.Score, d.Severity = &s, contracts.CVSSSeverity(r.Severity)
		}
		out = append(out, d)
	}
	return out
}

// openedData builds FindingOpened from a parsed finding, each field cut to the schema's bounds.
func openedData(f *importers.Finding, assetID, scope, key, scanID string, rep *importers.Report, at time.Time) contracts.FindingOpenedV2 {
	d := contracts.FindingOpenedV2{
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
		d.Component = &contracts.FindingOpenedComponent{PURL: clip(c.PURL, MaxURL), Name: clip(c.Name, 1024), Version: clip(c.Version, MaxShort),
			FixedVersion: clip(c.FixedVersion, 1024), Type: clip(c.Type, 64), Path: clip(c.Path, MaxURL)}
	}
	if l := f.Location; l != (importers.Location{}) {
		loc := locationOf(l)
		d.Location = &loc
	}
	if len(f.Locations) > 1 {
		d.Locations = make([]contracts.FindingOpenedLocation, 0, min(len(f.Locations), MaxLocations))
		for _, l := range f.Locations[:min(len(f.Locations), MaxLocations)] {
			d.Locations = append(d.Locations, locationOf(l))
		}
	}
	return d
}

// locationOf is one location cut to the schema's bounds.
func locationOf(l importers.Location) contracts.FindingOpenedLocation {
	// Out-of-range numbers are dropped, as zero ones are: the schema bounds them.
	return contracts.FindingOpenedLocation{Host: clip(l.Host, 1024), Port: positive(l.Port, 65535), Protocol: clip(l.Protocol, 32), URL: clip(l.URL, MaxURL),
		Method: clip(l.Method, 32), Param: clip(l.Param, 1024), File: clip(l.File, MaxURL), Line: positive(l.Line, math.MaxInt), Column: positive(l.Column, math.MaxInt),
		Image: clip(l.Image, 1024)}
}

// positive is n when it is in 1..max, else nil: the optional number left out of the data.
func positive(n, max int) *int {
	if n < 1 || n > max {
		return nil
	}
	return &n
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
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

// Summary is what an import did; ScanImportCompleted carries the counts its v1 schema names
// (completed), the API and `soc import` show all of it.
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
	// Skipped: findings of the report recorded as no finding of their own: the duplicates
	// (Duplicates lists them) and, in a failed import, those that could not be attached.
	Skipped          int `json:"skipped"`
	AssetsDiscovered int `json:"assets_discovered"`
	AssetsMatched    int `json:"assets_matched"`
	// AssetsWeak: report assets with no stable identifier attached by what the report names as
	// its target (a weak identity, see assets.WeakKey); each is also counted as discovered (a
	// new asset registered weakly) or matched (the asset registered with that weak key before).
	AssetsWeak int `json:"assets_weak"`
	// Warnings say what was skipped, held back or tolerated and why (at most MaxWarnings); the
	// parser's own warnings come first.
	Warnings []string `json:"warnings,omitempty"`

	// Parsed is how many findings the parser read (FindingsTotal). The import holds
	// Parsed == Stored + DuplicateCount + Ignored, or fails (*IncompleteImportError).
	Parsed int `json:"parsed"`
	// Stored: findings recorded on a finding stream (New + Unchanged + Reopened + Suppressed).
	Stored int `json:"stored"`
	// Suppressed: new findings the report itself marks as needing no work (importers
	// Suppression), opened straight into the state it names.
	Suppressed int `json:"suppressed"`
	// DuplicateCount: findings that collapsed into another finding of the same identity (same
	// asset, format and fingerprint); Duplicates lists the identities (at most MaxWarnings).
	DuplicateCount int         `json:"duplicate_count"`
	Duplicates     []Duplicate `json:"duplicates,omitempty"`
	// Ignored: findings of a kind the platform does not track (license results); IgnoredReason
	// says which.
	Ignored       int    `json:"ignored"`
	IgnoredReason string `json:"ignored_reason,omitempty"`
	// HeldBack: findings not seen by this import that it did not resolve or close, because that
	// would have resolved more of their scope than the configured share (or the report saw
	// nothing of it) and the request did not say close_missing; HeldBackReason says which.
	HeldBack       int    `json:"held_back"`
	HeldBackReason string `json:"held_back_reason,omitempty"`
}

// Duplicate is one identity several findings of a report collapsed into.
type Duplicate struct {
	Fingerprint string `json:"fingerprint"`
	Title       string `json:"title"`
	// Listed is how many times the report lists it (the first is stored, the others counted
	// in DuplicateCount).
	Listed int `json:"listed"`
}

// AddsUp reports whether every parsed finding is accounted for: stored, a listed duplicate, or
// ignored by kind.
func (s Summary) AddsUp() bool {
	return s.Parsed == s.Stored+s.DuplicateCount+s.Ignored
}

// completed is the ScanImportCompleted (v2) data: the v1 counts and the job summary's accounting.
func (s Summary) completed() contracts.ScanImportCompletedV2 {
	b := s.BySeverity
	return contracts.ScanImportCompletedV2{ScanImportCompleted: contracts.ScanImportCompleted{ScanID: s.ScanID, Format: s.Format, FindingsTotal: s.FindingsTotal,
		BySeverity: contracts.ScanImportCompletedBySeverity{Critical: b.Critical, High: b.High, Medium: b.Medium, Low: b.Low, Info: b.Info},
		New:        s.New, Unchanged: s.Unchanged, Reopened: s.Reopened, Resolved: s.Resolved, Closed: s.Closed, Skipped: s.Skipped,
		AssetsDiscovered: s.AssetsDiscovered, AssetsMatched: s.AssetsMatched, Warnings: s.Warnings},
		Parsed: &s.Parsed, Stored: &s.Stored, Suppressed: &s.Suppressed, DuplicateCount: &s.DuplicateCount,
		Ignored: &s.Ignored, HeldBack: &s.HeldBack, AssetsWeak: &s.AssetsWeak}
}

// runSummary is what a scan run records of its import (ScanCompleted.import): the counts, with
// every severity named, zero included.
func (s Summary) runSummary() domain.ImportSummary {
	b := s.BySeverity
	return domain.ImportSummary{FindingsTotal: s.FindingsTotal, New: s.New, Unchanged: s.Unchanged, Reopened: s.Reopened,
		Resolved: s.Resolved, Closed: s.Closed, Skipped: s.Skipped, AssetsDiscovered: s.AssetsDiscovered, AssetsMatched: s.AssetsMatched,
		BySeverity: map[string]int{"critical": b.Critical, "high": b.High, "medium": b.Medium, "low": b.Low, "info": b.Info}}
}

// MaxWarnings bounds Summary.Warnings.
const MaxWarnings = 100

func (s *Summary) warn(msg string) {
	if len(s.Warnings) < MaxWarnings {
		s.Warnings = append(s.Warnings, clip(msg, 1024))
	}
}
