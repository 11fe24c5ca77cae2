package sarif

import (
	"fmt"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers/importertest"
)

// TestRepeatedTextKeptOnce: a tool writes the same message in every result of a rule; the
// report keeps one copy.
func TestRepeatedTextKeptOnce(t *testing.T) {
	importertest.RepeatedTextKeptOnce(t, New(), `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [`,
		func(i int, desc string) string {
			return fmt.Sprintf(`{"ruleId": "R", "message": {"text": %q}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.go"}, "region": {"startLine": %d}}}]}`, desc, i+1)
		},
		`]}]}`)
}
