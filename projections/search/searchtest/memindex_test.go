package searchtest

import (
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/query"
)

func TestMemIndexPasses(t *testing.T) {
	Run(t, func(t *testing.T) search.Index { return NewMemIndex() })
}

// TestSuiteCatches proves the suite can fail: each flaw makes the check meant for it fail.
func TestSuiteCatches(t *testing.T) {
	for _, c := range []struct {
		check string
		flaws flaws
	}{
		{"queries", flaws{ignoreNegation: true}},
		{"visibility", flaws{ignoreScope: true}},
		{"versions", flaws{ignoreVersions: true}},
		{"versions", flaws{lastPosition: true}},
		{"paging", flaws{lenientCursor: true}},
		{"highlight", flaws{rawHighlights: true}},
		{"queries", flaws{stateInHits: true}},
		{"load", flaws{eventsAsFindings: true}},
		{"sorting", flaws{descAsReversedAsc: true}},
	} {
		failures := Check(t, func(t *testing.T) search.Index { return newFlawedIndex(c.flaws) })
		if !slices.ContainsFunc(failures, func(f string) bool { return strings.HasPrefix(f, c.check+": ") }) {
			t.Errorf("flaws %+v: no failure of check %q among %d: %q", c.flaws, c.check, len(failures), failures)
		}
	}
}

// TestSuiteQueriesUseTheLanguage keeps the suite's ASTs within what the parser can produce.
func TestSuiteQueriesUseTheLanguage(t *testing.T) {
	for _, w := range slices.Concat(queries(), visibility(), facetRequests()) {
		if len(w.r.Query.Clauses) > query.MaxClauses {
			t.Errorf("%s: %d clauses", w.name, len(w.r.Query.Clauses))
		}
		for _, c := range w.r.Query.Clauses {
			if c.Field != query.FieldText && !slices.Contains(query.Fields, c.Field) {
				t.Errorf("%s: unknown field %q", w.name, c.Field)
			}
			if c.Phrase && c.Field != query.FieldText || c.Op != query.OpEq && c.Field != query.FieldCVSS && c.Field != query.FieldEPSS {
				t.Errorf("%s: clause %+v the parser cannot produce", w.name, c)
			}
		}
	}
}
