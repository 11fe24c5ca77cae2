package parseutil

import "github.com/socplatform/soc/commands/scans/importers"

// Builder is a report a parser fills as it reads, record by record: its assets one per key
// (AssetSet), its findings merged by fingerprint (FindingSet), and the report's own members and
// warnings in Report, which must be set. The parsers that meet an asset or a finding again
// further on (ASFF, Inspector2, Nuclei, Trivy Operator) share it.
type Builder struct {
	Report   *importers.Report
	Assets   AssetSet
	Findings FindingSet
}

// Warn adds msg to the report's warnings.
func (b *Builder) Warn(msg string) { b.Report.Warnings = append(b.Report.Warnings, msg) }

// Built is the report holding the assets and findings in the order first added.
func (b *Builder) Built() *importers.Report {
	b.Report.Assets = b.Assets.Assets()
	b.Report.Findings = b.Findings.Findings()
	return b.Report
}

// Bounded is Built with more warnings (those of the reader: what it cut) after the report's own,
// bounded (importers.Bounded): how a parser returns it.
func (b *Builder) Bounded(more []string) (*importers.Report, error) {
	rep := b.Built()
	rep.Warnings = append(rep.Warnings, more...)
	return importers.Bounded(rep, nil)
}
