package parseutil

import (
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// AddCVSS appends c unless it carries neither vector nor score, a rating with the same version,
// vector and source is already there, or list already holds MaxList ratings.
func AddCVSS(list []importers.CVSS, c importers.CVSS) []importers.CVSS {
	if c.Vector == "" && c.Score == nil {
		return list
	}
	for _, have := range list {
		if have.Version == c.Version && have.Vector == c.Vector && have.Source == c.Source {
			return list
		}
	}
	if len(list) >= MaxList {
		return list
	}
	return append(list, c)
}

// VectorVersion is the CVSS version a vector names in its "CVSS:3.1/" prefix ("3.0", "3.1",
// "4.0"), or "" for a vector without one (CVSS v2 vectors have none).
func VectorVersion(vector string) string {
	for _, v := range []string{"3.0", "3.1", "4.0"} {
		if strings.HasPrefix(vector, "CVSS:"+v+"/") {
			return v
		}
	}
	return ""
}

// FindingSet keeps findings in report order and merges a finding whose fingerprint is already
// present into the first one, so that fingerprints are unique within a Report. The zero value is
// an empty set.
type FindingSet struct {
	list []importers.Finding
	idx  map[string]int
}

// Add adds f, or merges it into the finding with the same fingerprint.
func (s *FindingSet) Add(f importers.Finding) {
	if s.idx == nil {
		s.idx = make(map[string]int)
	}
	if i, ok := s.idx[f.Fingerprint]; ok {
		Merge(&s.list[i], &f)
		return
	}
	s.idx[f.Fingerprint] = len(s.list)
	s.list = append(s.list, f)
}

// Findings is the findings in the order first added; never nil.
func (s *FindingSet) Findings() []importers.Finding {
	if s.list == nil {
		return []importers.Finding{}
	}
	return s.list
}

// Merge folds src into dst: the higher severity wins, lists are unioned, evidence is appended
// (separated by a line of dashes, bounded) and empty text fields are filled.
func Merge(dst, src *importers.Finding) {
	if SeverityRank(src.Severity) > SeverityRank(dst.Severity) {
		dst.Severity, dst.ScannerSeverity = src.Severity, src.ScannerSeverity
	}
	for _, c := range src.CVSS {
		dst.CVSS = AddCVSS(dst.CVSS, c)
	}
	dst.CVEs = AddUnique(dst.CVEs, src.CVEs...)
	dst.GHSAs = AddUnique(dst.GHSAs, src.GHSAs...)
	dst.CWEs = AddUnique(dst.CWEs, src.CWEs...)
	dst.References = AddUnique(dst.References, src.References...)
	if src.Evidence != "" && !strings.Contains(dst.Evidence, src.Evidence) && !strings.HasSuffix(dst.Evidence, TruncMark) {
		if dst.Evidence == "" {
			dst.Evidence = src.Evidence
		} else {
			dst.Evidence = Truncate(dst.Evidence+"\n----\n"+src.Evidence, MaxEvidence)
		}
	}
	if dst.Description == "" {
		dst.Description = src.Description
	}
	if dst.Remediation == "" {
		dst.Remediation = src.Remediation
	}
	if dst.VEXState == "" {
		dst.VEXState, dst.VEXJustification = src.VEXState, src.VEXJustification
	}
}
