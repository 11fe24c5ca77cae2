package parseutil

import (
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// AddAdvisoryIDs files each of ids that is a CVE into f.CVEs and each GHSA into f.GHSAs (the
// alias lists of OSV, GitHub and pip-audit records mix both with ids of other databases, which
// are left out).
func AddAdvisoryIDs(f *importers.Finding, ids ...string) { addAdvisoryIDs(f, AppendUnique, ids) }

// AddAdvisoryIDsCapped is AddAdvisoryIDs keeping at most MaxList CVEs and GHSAs (AddUnique), for
// the parsers that cap their lists as they read.
func AddAdvisoryIDsCapped(f *importers.Finding, ids ...string) { addAdvisoryIDs(f, AddUnique, ids) }

func addAdvisoryIDs(f *importers.Finding, add func([]string, ...string) []string, ids []string) {
	for _, id := range ids {
		if c, ok := NormCVE(id); ok {
			f.CVEs = add(f.CVEs, c)
		} else if g, ok := NormGHSA(id); ok {
			f.GHSAs = add(f.GHSAs, g)
		}
	}
}

// AdvisorySeverity maps the GitHub advisory database's severity words, which npm audit uses
// too: critical, high, moderate (or medium), low.
func AdvisorySeverity(word string) (importers.Severity, bool) {
	word = strings.ToLower(strings.TrimSpace(word))
	if word == "moderate" {
		return importers.Medium, true
	}
	return SeverityWord(word)
}

// AdvisoryRating is the CVSS rating of a GitHub advisory record (GitHub's API and npm audit):
// a vector with its score, the version read from the vector's prefix. A 0 score without a
// vector is the "no rating" these APIs write ({"score": 0, "vectorString": null}); a bare
// score is CVSS 3.1, what GitHub rates in; a vector of an unknown version is none, since the
// vulns context could not read it.
func AdvisoryRating(vector string, score *float64, source string) (importers.CVSS, bool) {
	if vector == "" && (score == nil || *score == 0) {
		return importers.CVSS{}, false
	}
	version := VectorVersion(vector)
	switch {
	case version != "":
	case vector != "":
		return importers.CVSS{}, false
	default:
		version = "3.1"
	}
	return importers.CVSS{Version: version, Vector: vector, Score: score, Source: source}, true
}
