package generic

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/csvscan"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

// csvRequired are the columns without which a row is no finding. DefectDojo also requires Date
// and Description; an export without them is still read. The Severity column must be there too
// (csvItem checks it), but a row may leave it empty: DefectDojo reads that as Info.
var csvRequired = []string{"Title"}

func parseCSV(ctx context.Context, r io.Reader) (*importers.Report, error) {
	var b builder
	rep, err := csvscan.Parse(ctx, r, formatName, csvRequired, func(c *csvscan.Reader, row csvscan.Row) error {
		if !c.Has("Severity") {
			return &importers.ParseError{Format: formatName, Offset: 0, Line: 1, Column: 1, Msg: "CSV header lacks the column(s) Severity"}
		}
		b.items = append(b.items, b.csvItem(c, row))
		return nil
	}, b.report)
	if err != nil {
		return nil, err
	}
	rep.Warnings = append(rep.Warnings, b.warnings...) // csvscan.Parse set its own
	return importers.Bounded(rep, nil)
}

// csvItem reads one row. DefectDojo's booleans are true when the value starts with "t".
func (b *builder) csvItem(c *csvscan.Reader, row csvscan.Row) item {
	flag := func(col string) bool { return strings.HasPrefix(strings.ToLower(row.Get(col)), "t") }
	word := row.Get("Severity")
	sev, ok := severity(word)
	if !ok {
		c.Ignoref(row, "Severity", "%q is none of Critical, High, Medium, Low, Info: read as info", word)
	}
	it := item{severityWord: strings.ToLower(word)} // CSV has no tool ids: title, severity and Url identify
	f := &it.f
	f.Title, f.Severity, f.ScannerSeverity = row.Get("Title"), sev, word
	f.Description, f.Remediation = row.Get("Description"), row.Get("Mitigation")
	f.References = references(row.Get("References"))
	f.Evidence = evidence("Impact", row.Get("Impact"))
	parseutil.AddAdvisoryIDsCapped(f, row.Get("CVE"), row.Get("Vulnerability Id"))
	addCWE(f, row.Get("CweId"))
	for _, cwe := range strings.FieldsFunc(row.Get("CweIds"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		addCWE(f, cwe)
	}
	where := "line " + strconv.Itoa(row.Line)
	b.addVector(f, row.Get("CVSSV3"), row.Get("CVSSV3_score"), where+", CVSSV3")
	b.addVector(f, row.Get("CVSSV4"), row.Get("CVSSV4_score"), where+", CVSSV4")
	inactive := c.Has("Active") && !flag("Active")
	f.Suppressed = status(flag("FalsePositive"), false, false, flag("IsMitigated"), inactive)
	if u := row.Get("Url"); u != "" {
		it.endpoints = []endpoint{parseEndpoint(u)}
	}
	return it
}
