package testsupport

import (
	"context"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
)

// ParseString parses s with p. The scanner parsers' own test kit is
// commands/scans/importers/importertest.
func ParseString(p importers.Parser, s string) (*importers.Report, error) {
	return p.Parse(context.Background(), strings.NewReader(s))
}
