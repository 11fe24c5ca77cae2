package elastic

import (
	"testing"

	"github.com/socplatform/soc/projections/search"
	"github.com/socplatform/soc/projections/search/searchtest"
)

// TestContract runs the search backends' contract suite against both servers, each subtest on
// an index of its own (a unique alias, dropped at the end).
func TestContract(t *testing.T) {
	eachServer(t, func(t *testing.T, cfg Config) {
		searchtest.Run(t, func(t *testing.T) search.Index { return openTest(t, cfg) })
	})
}
