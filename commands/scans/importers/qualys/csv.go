package qualys

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// csvRequired are the columns every Qualys VM CSV export has: one row is one QID on one host.
var csvRequired = []string{"IP", "QID"}

// parseCSV reads the CSV exports of Qualys VM detections: the vulnerability report CSV ("IP",
// "DNS", "NetBIOS", "OS", "QID", "Title", "Vuln Status", "Type", "Severity", "Port",
// "Protocol", "CVE ID", "CVSS Base", "CVSS3 Base", "Threat", "Impact", "Solution", "Results")
// and the PCI report CSV (IP, HOSTNAME, QID, VULN TITLE, TYPE, SEVERITY as a word, Q_SEVERITY,
// PORT, PROTOCOL, OPERATING SYSTEM, CVSS_BASE, THREAT, IMPACT, SOLUTION, RESULT, CVEID). Rows are
// detections like those of the XML reports, with the same fingerprints.
func parseCSV(ctx context.Context, r io.Reader) (*importers.Report, error) {
	b := newDetectionBuilder("Qualys VM")
	rep, err := csvscan.Parse(ctx, r, format, csvRequired, func(c *csvscan.Reader, row csvscan.Row) error {
		ip, ok := b.host(row.Get("IP"), row.Get("DNS", "HOSTNAME"), row.Get("NetBIOS"), row.Get("OS", "OPERATING SYSTEM"), "")
		if !ok {
			return c.Errorf(row, "IP", "%q is not an IP address", parseutil.TruncateEllipsis(row.Get("IP"), 64))
		}
		qid := row.Get("QID")
		if _, err := strconv.ParseUint(qid, 10, 32); err != nil {
			return c.Errorf(row, "QID", "%q is not a QID", parseutil.TruncateEllipsis(qid, 32))
		}
		d := detection{ip: ip, qid: qid, kind: row.Get("Type"), status: row.Get("Vuln Status"),
			result: row.Get("Results", "RESULT"), proto: strings.ToLower(row.Get("Protocol")),
			title: row.Get("Title", "VULN TITLE"), threat: row.Get("Threat"), impact: row.Get("Impact"),
			solution: row.Get("Solution"), cves: row.Get("CVE ID", "CVEID"),
			cvss2: row.Get("CVSS Base", "CVSS_BASE"), cvss3: row.Get("CVSS3 Base")}
		switch strings.ToLower(d.kind) {
		case "ig", "info", "information gathered":
			d.information = true
		}
		// The level 1–5: Q_SEVERITY when the export has it (its SEVERITY is then a word),
		// else Severity.
		d.severity = row.Get("Q_SEVERITY", "Severity")
		if p := row.Get("Port"); p != "" {
			var err error
			if d.port, err = c.Port(row, "Port", p); err != nil {
				return err
			}
		}
		b.found = append(b.found, d)
		return nil
	}, func() *importers.Report { return &importers.Report{} })
	if err != nil {
		return nil, err
	}
	out := b.report()
	out.Warnings = append(out.Warnings, rep.Warnings...)
	return out, nil
}
