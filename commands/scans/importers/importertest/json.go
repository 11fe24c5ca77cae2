package importertest

import (
	"slices"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Limits are the bounds of a parser built on jsonguard: the fields of jsonguard.Limits, which a
// parser's Spec.Limits converts them to (jsonguard's own tests use this package, so it cannot
// import jsonguard).
type Limits struct {
	MaxBytes int64
	MaxDepth int
}

// FuzzLimits are the limits of a jsonguard parser under the fuzzer: small, so that the fuzzer
// reaches them.
var FuzzLimits = Limits{MaxBytes: 1 << 20, MaxDepth: 32}

// limitedBytes is the MaxBytes of the parser Spec.Limits derives for Spec.Limited.
const limitedBytes = 1000

// skippedString is the Pattern of a string the parser skips.
const skippedString = "0123456789abcdef"

// JSONRecords describes the commonest JSON report: an object whose member Key is the array of
// the report's records, of which Record is one ({"results": [Record, …]}). The suite derives
// its standard inputs of such a report from it (Spec.JSON), each method giving one.
type JSONRecords struct {
	Key, Record string
	// Records is how many records the cancel stream (Decoding) holds.
	Records int64
}

// Empty is a report with no records.
func (r JSONRecords) Empty() string { return `{"` + r.Key + `": []}` }

// UnknownString is a report of one record then a 50 MiB string in a member the parser does not
// know: skipped, at no cost.
func (r JSONRecords) UnknownString() Stream {
	return Stream{Name: "unknown string", Prefix: `{"` + r.Key + `": [` + r.Record + `], "x": "`, Pattern: skippedString, Suffix: `"}`}
}

// OverLimit is a report with no records over the MaxBytes of the parser Spec.Limits derives.
func (r JSONRecords) OverLimit() string {
	return `{"` + r.Key + `": [], "x": "` + strings.Repeat("a", 2*limitedBytes) + `"}`
}

// Decoding is the cancel stream of Records records: cancelled when it ends, so while the parser
// decodes them.
func (r JSONRecords) Decoding() Stream {
	return Stream{
		Name:    "while decoding",
		Prefix:  `{"` + r.Key + `": [` + r.Record,
		Pattern: "," + r.Record,
		Size:    r.Records * int64(len(","+r.Record)),
		Suffix:  `]}`,
	}
}

// Hostile are the cases every streaming JSON parser refuses alike: an input of no bytes, at
// line 1 for want of a value, and a report followed on its next line by more data.
func (r JSONRecords) Hostile() []Hostile {
	return []Hostile{
		{Name: "empty", In: ``, Msg: "end of input", Line: 1},
		{Name: "trailing data", In: r.Empty() + "\n]", Msg: "after the report", Line: 2},
	}
}

// FuzzParser is the parser FuzzParse runs, Limits with FuzzLimits.
func (s Spec) FuzzParser() importers.Parser { return s.Limits(FuzzLimits) }

// derived is s with what it leaves to the suite filled in: Limited from Limits, and the
// standard inputs of JSON: the "unknown string" Bounded stream, and the Hostile cases,
// OverLimit, Cancelled and the "while decoding" cancel stream where s gives none of its own (a
// Hostile case of its own is one of the same name).
func (s Spec) derived() Spec {
	if s.Limited == nil && s.Limits != nil {
		s.Limited = s.Limits(Limits{MaxBytes: limitedBytes})
	}
	if s.JSON == nil {
		return s
	}
	s.Bounded = append([]Stream{s.JSON.UnknownString()}, s.Bounded...)
	var standard []Hostile
	for _, h := range s.JSON.Hostile() {
		if !slices.ContainsFunc(s.Hostile, func(own Hostile) bool { return own.Name == h.Name }) {
			standard = append(standard, h)
		}
	}
	s.Hostile = append(standard, s.Hostile...)
	if s.OverLimit == "" {
		s.OverLimit = s.JSON.OverLimit()
	}
	if s.Cancelled == "" {
		s.Cancelled = s.JSON.Empty()
	}
	if len(s.CancelStreams) == 0 {
		s.CancelStreams = []Stream{s.JSON.Decoding()}
	}
	return s
}
