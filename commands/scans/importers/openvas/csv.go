package openvas

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// GVM's "CSV Results" report format (GSA: Download Report > CSV Results) writes one row per
// result under the header
//
//	IP, Hostname, Port, Port Protocol, CVSS, Severity, QoD, Solution Type, NVT Name, Summary,
//	Specific Result, NVT OID, CVEs, Task ID, Task Name, Timestamp, Result ID, Impact, Solution,
//	Affected Software/OS, Vulnerability Insight, Vulnerability Detection Method,
//	Product Detection Result, BIDs, CERTs, Other References
//
// (OpenVAS 9 lacks QoD; columns are found by name, IP and NVT OID are required). A row maps as
// the XML's <result> does, to the same fingerprint (openvas/v1|host|oid|port): Port and Port
// Protocol are joined back into the XML's "80/tcp" ("general/tcp" when Port is "general" or
// empty), CVSS is the result's score and Severity its threat label, the Summary, Vulnerability
// Insight, Impact, Affected Software/OS and Vulnerability Detection Method columns make the
// description as the NVT tags do, Specific Result is the evidence, CVEs, CERTs and Other
// References (comma-separated) the references. Timestamps give the report's start and end, the
// first Task Name its Target. A CVSS that is not a number in -3..10 is left out with a warning
// (the threat label gives the severity); a port that is not a number refuses the file.

// csvRequired are the columns without which a row is not a GVM result.
var csvRequired = []string{"IP", "NVT OID"}

// detectCSV reports whether head is a GVM CSV Results export: a header naming IP, NVT OID and
// NVT Name.
func detectCSV(head []byte) bool {
	h := csvscan.Header(head, 3)
	return h != nil && csvscan.HasColumns(h, append(csvRequired, "NVT Name")...)
}

func parseCSV(ctx context.Context, r io.Reader) (*importers.Report, error) {
	b := &builder{}
	return csvscan.Parse(ctx, r, format, csvRequired, func(c *csvscan.Reader, row csvscan.Row) error {
		port := strings.ToLower(row.Get("Port"))
		proto := strings.ToLower(row.Get("Port Protocol"))
		if port != "" && port != "general" && port != "package" {
			if _, err := c.Port(row, "Port", port); err != nil {
				return err
			}
		}
		switch {
		case proto == "":
		case port == "":
			port = "general/" + proto
		default:
			port += "/" + proto
		}
		severity := row.Get("CVSS")
		if _, err := parseutil.Number(severity, -3, 10); err != nil {
			c.Ignoref(row, "CVSS", "%q is not a number in -3..10", parseutil.TruncateEllipsis(severity, 40))
			severity = ""
		}
		nvt := nvtInfo{
			oid:      row.Get("NVT OID"),
			name:     parseutil.Truncate(row.Get("NVT Name"), parseutil.MaxShort),
			solution: parseutil.Truncate(row.Get("Solution"), parseutil.MaxField),
			tagMap: map[string]string{
				"summary":   row.Get("Summary"),
				"insight":   row.Get("Vulnerability Insight"),
				"impact":    row.Get("Impact"),
				"affected":  row.Get("Affected Software/OS"),
				"vuldetect": row.Get("Vulnerability Detection Method"),
			},
		}
		for _, id := range splitList(row.Get("CVEs")) {
			nvt.addRef("cve", id)
		}
		for _, id := range splitList(row.Get("CERTs")) {
			nvt.addRef("cert-bund", id)
		}
		for _, u := range splitList(row.Get("Other References")) {
			nvt.addRef("url", u)
		}
		res := rawResult{
			host:        row.Get("IP"),
			hostname:    parseutil.Truncate(row.Get("Hostname"), parseutil.MaxShort),
			port:        port,
			threat:      row.Get("Severity"),
			severity:    severity,
			description: parseutil.Truncate(row.Get("Specific Result"), parseutil.MaxEvidence),
			nvt:         nvt,
		}
		fail := func(msg string, args ...any) error {
			return c.Errorf(row, "NVT OID", msg, args...)
		}
		if err := b.add(res, fail); err != nil {
			return err
		}
		if t, err := time.Parse(time.RFC3339, row.Get("Timestamp")); err == nil {
			b.Span(t.UTC(), t.UTC())
		}
		if b.Scan == "" {
			b.Scan = parseutil.Truncate(row.Get("Task Name"), parseutil.MaxShort)
		}
		return nil
	}, b.result)
}

// splitList splits a comma-separated column ("CVE-2011-3389,CVE-2015-0204"; GVM writes no
// spaces, older versions ", ").
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
