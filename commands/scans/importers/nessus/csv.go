package nessus

import (
	"context"
	"io"
	"net/netip"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// Nessus CSV exports ("Export > CSV" of a scan in Nessus Professional / Expert) have one row per
// result and CVE: a plugin that names three CVEs on a port is three rows that differ only in the
// CVE column. The default columns are
//
//	Plugin ID, CVE, CVSS v2.0 Base Score (Nessus < 8: "CVSS"), Risk, Host, Protocol, Port, Name,
//	Synopsis, Description, Solution, See Also, Plugin Output
//
// and the export dialog adds, on request, STIG Severity, CVSS v3.0 Base Score, CVSS v2.0 and v3.0
// Temporal Score, VPR Score, EPSS Score, Risk Factor, BID, XREF, MSKB, Plugin Publication and
// Modification Date, Metasploit, Core Impact and CANVAS. Columns are found by name, in any order;
// Plugin ID, Host and Name are required, the others optional.
//
// Rows map as the XML's ReportItems do, and to the same fingerprints (nessus/v1|host|pluginID|
// port|protocol), so the CSV and the .nessus of one scan give the same findings: Host is the
// ReportHost name (an IP or the name the scan targeted), Risk (else Risk Factor, else the highest
// score) the severity, the CVE rows of a result merge into one finding. A CSV carries scores but
// no CVSS vectors. A score that is not a number in 0..10 is left out with a warning (it is one
// optional field), while a port that is not a number in 0..65535 refuses the file: it is part of
// the finding's identity.

// csvRequired are the columns without which a row is not a Nessus result.
var csvRequired = []string{"Plugin ID", "Host", "Name"}

// detectCSV reports whether head is a Nessus CSV export: a header naming Plugin ID, Host and
// Name, and Risk or Plugin Output.
func detectCSV(head []byte) bool {
	h := csvscan.Header(head, 3)
	return h != nil && csvscan.HasColumns(h, csvRequired...) &&
		(csvscan.HasColumns(h, "Risk") || csvscan.HasColumns(h, "Plugin Output"))
}

func parseCSV(ctx context.Context, r io.Reader) (*importers.Report, error) {
	b := &builder{}
	return csvscan.Parse(ctx, r, format, csvRequired, func(c *csvscan.Reader, row csvscan.Row) error {
		f, err := csvFinding(c, row)
		if err != nil {
			return err
		}
		host := row.Get("Host")
		a := importers.Asset{Key: "host:" + strings.ToLower(host), Kind: importers.Host, Name: host}
		if addr, err := netip.ParseAddr(host); err == nil {
			a.IPs = []string{addr.String()}
		} else {
			a.Hostnames = parseutil.AddHostname(nil, host)
		}
		if f.Location.Port > 0 {
			a.Services = parseutil.AddService(nil, f.Location.Port, f.Location.Protocol, "")
		}
		b.addAsset(a)
		f.AssetKey = a.Key
		f.Location.Host = host
		f.Fingerprint = parseutil.FingerprintCanonical("nessus/v1", strings.ToLower(host), f.RuleID, strconv.Itoa(f.Location.Port), f.Location.Protocol)
		if f.RuleID == "19506" && b.version == "" {
			b.version = scanInfoVersion(f.Evidence)
		}
		b.Findings.Add(f)
		return nil
	}, b.report)
}

// csvFinding maps one row; the caller sets the asset, host and fingerprint.
func csvFinding(c *csvscan.Reader, row csvscan.Row) (importers.Finding, error) {
	f := importers.Finding{
		RuleID:      parseutil.Truncate(row.Get("Plugin ID"), parseutil.MaxShort),
		Title:       parseutil.Truncate(row.Get("Name"), parseutil.MaxShort),
		Description: parseutil.Truncate(parseutil.FirstNonEmpty(row.Get("Description"), row.Get("Synopsis")), parseutil.MaxField),
		Remediation: parseutil.Truncate(row.Get("Solution"), parseutil.MaxField),
		Evidence:    parseutil.Truncate(row.Get("Plugin Output"), parseutil.MaxEvidence),
	}
	if strings.EqualFold(f.Remediation, "n/a") {
		f.Remediation = ""
	}
	if p := row.Get("Port"); p != "" {
		port, err := c.Port(row, "Port", p)
		if err != nil {
			return f, err
		}
		f.Location.Port = port
	}
	f.Location.Protocol = strings.ToLower(row.Get("Protocol"))
	for _, id := range strings.FieldsFunc(row.Get("CVE"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' }) {
		f.CVEs = parseutil.AddUnique(f.CVEs, strings.ToUpper(id))
	}
	for _, x := range strings.FieldsFunc(row.Get("XREF"), func(r rune) bool { return r == ',' || r == '\n' || r == '\r' }) {
		f.CWEs = parseutil.AddUnique(f.CWEs, xrefCWE(x))
	}
	for _, ref := range strings.Fields(row.Get("See Also")) {
		f.References = parseutil.AddUnique(f.References, parseutil.Truncate(ref, parseutil.MaxShort))
	}
	for _, sc := range []struct{ version, column string }{
		{"4.0", "CVSS v4.0 Base Score"}, {"3.0", "CVSS v3.0 Base Score"}, {"2.0", "CVSS v2.0 Base Score"}, {"2.0", "CVSS"},
	} {
		txt := row.Get(sc.column)
		score, err := parseutil.Number(txt, 0, 10)
		if err != nil {
			c.Ignoref(row, sc.column, "%q is not a score in 0..10", parseutil.TruncateEllipsis(txt, 40))
			continue
		}
		f.CVSS = parseutil.AddCVSS(f.CVSS, importers.CVSS{Version: sc.version, Score: score, Source: "nessus"})
	}
	risk := parseutil.FirstNonEmpty(row.Get("Risk"), row.Get("Risk Factor"))
	f.ScannerSeverity = risk
	if s, ok := parseutil.SeverityWord(strings.ToLower(risk)); ok {
		f.Severity = s
	} else if s, ok := parseutil.MaxScore(f.CVSS); ok && risk == "" {
		f.Severity = parseutil.SeverityFromScore(s)
	} else {
		f.Severity = importers.Info
	}
	return f, nil
}
