package app

import (
	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/acunetix"
	"github.com/socplatform/soc/commands/scans/importers/asff"
	"github.com/socplatform/soc/commands/scans/importers/bandit"
	"github.com/socplatform/soc/commands/scans/importers/burp"
	"github.com/socplatform/soc/commands/scans/importers/checkmarx"
	"github.com/socplatform/soc/commands/scans/importers/cyclonedx"
	"github.com/socplatform/soc/commands/scans/importers/depcheck"
	"github.com/socplatform/soc/commands/scans/importers/generic"
	"github.com/socplatform/soc/commands/scans/importers/github"
	"github.com/socplatform/soc/commands/scans/importers/gitleaks"
	"github.com/socplatform/soc/commands/scans/importers/govulncheck"
	"github.com/socplatform/soc/commands/scans/importers/grype"
	"github.com/socplatform/soc/commands/scans/importers/inspector2"
	"github.com/socplatform/soc/commands/scans/importers/kics"
	"github.com/socplatform/soc/commands/scans/importers/mapped"
	"github.com/socplatform/soc/commands/scans/importers/nessus"
	"github.com/socplatform/soc/commands/scans/importers/nmap"
	"github.com/socplatform/soc/commands/scans/importers/npmaudit"
	"github.com/socplatform/soc/commands/scans/importers/nuclei"
	"github.com/socplatform/soc/commands/scans/importers/openvas"
	"github.com/socplatform/soc/commands/scans/importers/osvscanner"
	"github.com/socplatform/soc/commands/scans/importers/pipaudit"
	"github.com/socplatform/soc/commands/scans/importers/qualys"
	"github.com/socplatform/soc/commands/scans/importers/sarif"
	"github.com/socplatform/soc/commands/scans/importers/semgrep"
	"github.com/socplatform/soc/commands/scans/importers/snyk"
	"github.com/socplatform/soc/commands/scans/importers/sonarqube"
	"github.com/socplatform/soc/commands/scans/importers/trivy"
	"github.com/socplatform/soc/commands/scans/importers/trivyoperator"
	"github.com/socplatform/soc/commands/scans/importers/veracode"
	"github.com/socplatform/soc/commands/scans/importers/zap"
)

// DefaultParsers returns one parser of every format the platform reads, in a fixed order. The
// mapped format (a custom mapping at the head of the upload) is last: it never detects a file.
func DefaultParsers() []importers.Parser {
	return []importers.Parser{
		nmap.New(), trivy.New(), grype.New(), sarif.New(),
		nessus.New(), openvas.New(), zap.New(), cyclonedx.New(),
		nuclei.New(), qualys.New(), trivyoperator.New(),
		sonarqube.New(), kics.New(), checkmarx.New(),
		govulncheck.New(), npmaudit.New(), pipaudit.New(), github.New(),
		snyk.New(), osvscanner.New(), depcheck.New(),
		burp.New(),
		veracode.New(),
		acunetix.New(), acunetix.New360JSON(),
		asff.New(),
		inspector2.New(),
		generic.New(),
		semgrep.New(), bandit.New(), gitleaks.New(),
		mapped.NewUpload(),
	}
}
