package depcheck

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

// parseXML reads an XML report, one <dependency> at a time.
func parseXML(ctx context.Context, r io.Reader) (*importers.Report, error) {
	s, _, err := xmlscan.Open(ctx, r, formatName, isAnalysisRoot, "a Dependency-Check <analysis>")
	if err != nil {
		return nil, err
	}
	var rep report
	var warnings []string
	warn := func(n *xmlscan.Node, msg string) {
		warnings = append(warnings, fmt.Sprintf("byte %d: %s", n.Start, msg))
	}
	err = s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "scanInfo", "projectInfo":
			n, err := s.Tree(se, parseutil.MaxShort)
			if err != nil {
				return err
			}
			if se.Name.Local == "scanInfo" {
				rep.engine = n.Get("engineVersion")
			} else {
				rep.project = n.Get("name")
			}
			return nil
		case "dependencies":
			return s.Children(func(se xml.StartElement) error {
				if se.Name.Local != "dependency" {
					return s.Skip()
				}
				n, err := s.Tree(se, parseutil.MaxField)
				if err == nil {
					rep.deps = append(rep.deps, xmlDep(n, warn))
				}
				return err
			})
		}
		return s.Skip()
	})
	if err != nil {
		return nil, err
	}
	if err := s.Trailing(); err != nil {
		return nil, err
	}
	out, err := build(ctx, &rep, warnings)
	return importers.Bounded(out, err)
}

func xmlDep(n *xmlscan.Node, warn func(*xmlscan.Node, string)) dep {
	d := dep{FileName: n.Get("fileName"), FilePath: n.Get("filePath"), SHA256: n.Get("sha256"), SHA1: n.Get("sha1"), MD5: n.Get("md5")}
	// Schema 2.x and later: <packages><package><id>; some writers put the packages in
	// <identifiers>, beside schema 1.x's <identifier>.
	for _, p := range append(n.All("packages", "package"), n.All("identifiers", "package")...) {
		d.Packages = parseutil.AppendUnique(d.Packages, p.Get("id"))
	}
	if ids := n.All("identifiers", "identifier"); len(ids) > 0 {
		d.Identifier, d.IdentifierType = ids[0].Get("name"), ids[0].AttrValue("type")
	}
	for _, v := range n.All("vulnerabilities", "vulnerability") {
		d.Vulns = append(d.Vulns, xmlVuln(v, warn))
	}
	// Suppressed vulnerabilities are <suppressedVulnerability> elements inside <vulnerabilities>
	// (schema 2.x and later) or a <suppressedVulnerabilities> list of their own.
	sup := append(n.All("vulnerabilities", "suppressedVulnerability"), n.All("suppressedVulnerabilities", "suppressedVulnerability")...)
	for _, v := range sup {
		d.Suppressed = append(d.Suppressed, xmlVuln(v, warn))
	}
	return d
}

// score reads a base score element; one that is not a number in [0, 10] is left out with a
// warning (the rating's vector, when there is one, still says what the score is).
func score(n *xmlscan.Node, warn func(*xmlscan.Node, string), path ...string) *float64 {
	v, err := parseutil.Number(n.Get(path...), 0, 10)
	if err != nil {
		warn(n, fmt.Sprintf("%v score %q: %v; left out", path, parseutil.TruncateEllipsis(n.Get(path...), 40), err))
		return nil
	}
	return v
}

func xmlVuln(n *xmlscan.Node, warn func(*xmlscan.Node, string)) vuln {
	v := vuln{
		Name: n.Get("name"), Source: n.AttrValue("source"), Severity: n.Get("severity"),
		Description: n.Get("description"), Notes: n.Get("notes"),
	}
	// Schema 1.x: flat v2 metrics.
	if n.Kid("cvssScore") != nil {
		v.CVSS = parseutil.AddCVSS(v.CVSS, cvss2(score(n, warn, "cvssScore"), n.Get("cvssAccessVector"), n.Get("cvssAccessComplexity"),
			n.Get("cvssAuthenticationr"), n.Get("cvssConfidentialImpact"), n.Get("cvssIntegrityImpact"), n.Get("cvssAvailabilityImpact")))
	}
	if c := n.Kid("cvssV2"); c != nil {
		v.CVSSv2Severity = c.Get("severity")
		v.CVSS = parseutil.AddCVSS(v.CVSS, cvss2(score(c, warn, "score"), c.Get("accessVector"), c.Get("accessComplexity"), c.Get("authenticationr"),
			parseutil.FirstNonEmpty(c.Get("confidentialImpact"), c.Get("confidentialityImpact")), c.Get("integrityImpact"), c.Get("availabilityImpact")))
	}
	if c := n.Kid("cvssV3"); c != nil {
		v.CVSSv3Severity = c.Get("baseSeverity")
		v.CVSS = parseutil.AddCVSS(v.CVSS, cvss3(parseutil.FirstNonEmpty(c.AttrValue("version"), c.Get("version")), score(c, warn, "baseScore"),
			c.Get("attackVector"), c.Get("attackComplexity"), c.Get("privilegesRequired"), c.Get("userInteraction"), c.Get("scope"),
			c.Get("confidentialityImpact"), c.Get("integrityImpact"), c.Get("availabilityImpact")))
	}
	if c := n.Kid("cvssV4"); c != nil {
		v.CVSS = parseutil.AddCVSS(v.CVSS, cvss4(c.Get("vectorString"), score(c, warn, "baseScore")))
	}
	cwes := []string{n.Get("cwe")}
	for _, c := range n.All("cwes", "cwe") {
		cwes = append(cwes, c.Text)
	}
	v.CWEs = parseutil.NormAll(cwes, parseutil.NormCWE)
	for _, ref := range n.All("references", "reference") {
		v.References = parseutil.AppendUnique(v.References, ref.Get("url"))
	}
	return v
}
