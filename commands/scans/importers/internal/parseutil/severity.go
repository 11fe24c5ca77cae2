package parseutil

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// SeverityFromScore maps a score on the CVSS scale: >=9 critical, >=7 high, >=4 medium, >0 low,
// else info.
func SeverityFromScore(f float64) importers.Severity {
	switch {
	case f >= 9:
		return importers.Critical
	case f >= 7:
		return importers.High
	case f >= 4:
		return importers.Medium
	case f > 0:
		return importers.Low
	}
	return importers.Info
}

// SeverityWord maps the four severity words every scanner uses, already lower-cased (and
// trimmed where the format allows spaces): critical, high, medium and low. Each parser adds its
// own synonyms and its fallback, which differ.
func SeverityWord(word string) (importers.Severity, bool) {
	switch word {
	case "critical":
		return importers.Critical, true
	case "high":
		return importers.High, true
	case "medium":
		return importers.Medium, true
	case "low":
		return importers.Low, true
	}
	return "", false
}

// SeverityWordOrInfo is SeverityWord of word lower-cased and trimmed, info when it is none of
// the four (Nessus' risk factor "None", GVM's threat "Log").
func SeverityWordOrInfo(word string) importers.Severity {
	if s, ok := SeverityWord(strings.ToLower(strings.TrimSpace(word))); ok {
		return s
	}
	return importers.Info
}

// Number reads a decimal number in lo..hi, white space trimmed; empty is none (nil, nil).
func Number(v string, lo, hi float64) (*float64, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	x, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < lo || x > hi {
		return nil, fmt.Errorf("not a number in %g..%g", lo, hi)
	}
	return &x, nil
}

// MaxScore is the highest v4, else v3, else v2 score among ratings (ok false when none has one).
func MaxScore(ratings []importers.CVSS) (float64, bool) {
	for _, prefix := range []string{"4", "3", "2"} {
		best, ok := 0.0, false
		for _, c := range ratings {
			if c.Score != nil && strings.HasPrefix(c.Version, prefix) && (!ok || *c.Score > best) {
				best, ok = *c.Score, true
			}
		}
		if ok {
			return best, true
		}
	}
	return 0, false
}

// SeverityRank orders severities: critical 4, high 3, medium 2, low 1, anything else 0.
func SeverityRank(s importers.Severity) int {
	switch s {
	case importers.Critical:
		return 4
	case importers.High:
		return 3
	case importers.Medium:
		return 2
	case importers.Low:
		return 1
	}
	return 0
}

// WordOrScore is the rule of the scanners that write a severity word and may leave it out or
// write one of their own ("UNKNOWN"): word as SeverityWord reads it (lower-cased and trimmed),
// else the severity of score (SeverityFromScore) when there is one, else info.
func WordOrScore(word string, score *float64) importers.Severity {
	if s, ok := SeverityWord(strings.ToLower(strings.TrimSpace(word))); ok {
		return s
	}
	if score != nil {
		return SeverityFromScore(*score)
	}
	return importers.Info
}

// WordOrRatings is WordOrScore with the highest score of ratings (MaxScore: v4, else v3, else
// v2).
func WordOrRatings(word string, ratings []importers.CVSS) importers.Severity {
	if s, ok := MaxScore(ratings); ok {
		return WordOrScore(word, &s)
	}
	return WordOrScore(word, nil)
}
