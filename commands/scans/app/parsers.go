package app

import (
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/bandit"
	"github.com/socplatform/soc/commands/scans/importers/cyclonedx"
	"github.com/socplatform/soc/commands/scans/importers/gitleaks"
	"github.com/socplatform/soc/commands/scans/importers/grype"
	"github.com/socplatform/soc/commands/scans/importers/nessus"
	"github.com/socplatform/soc/commands/scans/importers/nmap"
	"github.com/socplatform/soc/commands/scans/importers/openvas"
	"github.com/socplatform/soc/commands/scans/importers/sarif"
	"github.com/socplatform/soc/commands/scans/importers/semgrep"
	"github.com/socplatform/soc/commands/scans/importers/trivy"
	"github.com/socplatform/soc/commands/scans/importers/zap"
)

// DefaultParsers returns one parser of every format the platform reads, in a fixed order.
func DefaultParsers() []importers.Parser {
	return []importers.Parser{
		nmap.New(), trivy.New(), grype.New(), sarif.New(),
		nessus.New(), openvas.New(), zap.New(), cyclonedx.New(),
		semgrep.New(), bandit.New(), gitleaks.New(),
	}
}
