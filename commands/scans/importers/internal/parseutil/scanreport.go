package parseutil

import (
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
)

// ScanReport is what the parsers of network scans (Nessus, OpenVAS, Qualys VM) gather while they
// read: a Builder's host assets and findings, and the time the scan covers and the scan's name,
// which their reports carry alike and which make the report only at the end.
type ScanReport struct {
	Builder
	Start, End time.Time
	Scan       string // the scan's name (Nessus' Report name, GVM's task, Qualys' title): the Target
}

// Span widens Start..End to take in from and to; a zero time is not known and widens nothing.
func (r *ScanReport) Span(from, to time.Time) {
	if !from.IsZero() && (r.Start.IsZero() || from.Before(r.Start)) {
		r.Start = from
	}
	if to.After(r.End) {
		r.End = to
	}
}

// Report is the report of what r gathered, in format, by scanner (at version, "" when unknown).
func (r *ScanReport) Report(format, scanner, version string) *importers.Report {
	var target *importers.Target
	if r.Scan != "" {
		target = &importers.Target{Name: r.Scan, Hint: "scan"}
	}
	r.Builder.Report = &importers.Report{
		Target:         target,
		Format:         format,
		ScannerName:    scanner,
		ScannerVersion: version,
		StartedAt:      r.Start,
		FinishedAt:     r.End,
	}
	return r.Built()
}
