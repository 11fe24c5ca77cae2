package cyclonedx

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/socplatform/soc/commands/scans/importers/internal/jsonwalk"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

// CycloneDX XML (spec 1.4 to 1.6) carries the same BOM as the JSON: <bom xmlns=
// "http://cyclonedx.org/schema/bom/1.x"> with <metadata>, <components> and <vulnerabilities>,
// lists wrapped in a plural element (<ratings><rating>…). Each component and vulnerability is
// read as a small tree and mapped to the JSON wire types, so both encodings share the mapping,
// the limits and the fingerprints: the same BOM gives the same findings in either.

// xmlNamespace is the prefix of the namespaces of every CycloneDX XML version.
const xmlNamespace = "http://cyclonedx.org/schema/bom/"

// isBOMRoot reports whether se is the document element of a CycloneDX XML BOM: a <bom> in a
// CycloneDX namespace, resolved (xml.Decoder.Token) or, in a raw start tag (Detect), declared by
// one of its attributes.
func isBOMRoot(se xml.StartElement) bool {
	return xmlscan.InNamespace(se, "bom", xmlNamespace)
}

// readXML reads a CycloneDX XML BOM.
func readXML(ctx context.Context, r io.Reader) (*bom, error) {
	s, root, err := xmlscan.Open(ctx, r, format, isBOMRoot, "a CycloneDX <bom>")
	if err != nil {
		return nil, err
	}
	doc := &bom{index: map[string]compInfo{}}
	for _, a := range root.Attr {
		if a.Name.Space == "" && a.Name.Local == "serialNumber" {
			doc.serial = a.Value
		}
	}
	err = s.Children(func(se xml.StartElement) error {
		switch se.Name.Local {
		case "metadata":
			n, err := s.Tree(se, parseutil.MaxShort)
			if err != nil {
				return err
			}
			doc.meta.Timestamp = jsonwalk.Scalar(n.Get("timestamp"))
			if c := n.Kid("component"); c != nil {
				comp := xmlComponent(c)
				doc.meta.Component = &comp
			}
			doc.toolName, doc.toolVer = xmlTool(n.Kid("tools"))
			return nil
		case "components":
			return eachTree(s, "component", parseutil.MaxShort, func(n *xmlscan.Node) {
				c := xmlComponent(n)
				indexComponent(doc.index, &c)
			})
		case "vulnerabilities":
			return eachTree(s, "vulnerability", parseutil.MaxField, func(n *xmlscan.Node) {
				v := xmlVuln(n, &doc.warnings)
				bound(&v)
				doc.vulns = append(doc.vulns, vulnRec{v, n.Start})
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
	return doc, nil
}

// eachTree reads each child element named name of the element just opened as a tree (others
// are skipped) and hands it to fn.
func eachTree(s *xmlscan.Scanner, name string, maxText int, fn func(*xmlscan.Node)) error {
	return s.Children(func(se xml.StartElement) error {
		if se.Name.Local != name {
			return s.Skip()
		}
		n, err := s.Tree(se, maxText)
		if err == nil {
			fn(n)
		}
		return err
	})
}

func xmlComponent(n *xmlscan.Node) cdxComponent {
	c := cdxComponent{
		BOMRef:  jsonwalk.Scalar(n.AttrValue("bom-ref")),
		Type:    jsonwalk.Scalar(n.AttrValue("type")),
		Name:    jsonwalk.Scalar(n.Get("name")),
		Version: jsonwalk.Scalar(n.Get("version")),
		PURL:    jsonwalk.Scalar(n.Get("purl")),
	}
	for _, p := range n.All("properties", "property") {
		c.Properties = append(c.Properties, cdxProperty{Name: jsonwalk.Scalar(p.AttrValue("name")), Value: jsonwalk.Scalar(p.Text)})
	}
	for _, r := range n.All("externalReferences", "reference") {
		c.ExternalReferences = append(c.ExternalReferences, cdxExtRef{Type: jsonwalk.Scalar(r.AttrValue("type")), URL: jsonwalk.Scalar(r.Get("url"))})
	}
	for _, k := range n.All("components", "component") {
		c.Components = append(c.Components, xmlComponent(k))
	}
	return c
}

// xmlTool is the first named tool: <tools><tool> (1.4) or <tools><components><component> and
// <services><service> (1.5 and later).
func xmlTool(n *xmlscan.Node) (string, string) {
	var all []*xmlscan.Node
	all = append(all, n.All("", "tool")...)
	all = append(all, n.Kid("components").All("", "component")...)
	all = append(all, n.Kid("services").All("", "service")...)
	for _, t := range all {
		if name := t.Get("name"); name != "" {
			return name, t.Get("version")
		}
	}
	return "", ""
}

func xmlSource(n *xmlscan.Node) *cdxSource {
	if n == nil {
		return nil
	}
	return &cdxSource{Name: n.Get("name"), URL: n.Get("url")}
}

// xmlVuln maps a <vulnerability>. A score or CWE that is not a number is left out with a
// warning naming the vulnerability: it is one field of one rating, not a reason to refuse the
// BOM. (A number out of range is refused by the shared mapping, as in JSON.)
func xmlVuln(n *xmlscan.Node, warnings *[]string) cdxVuln {
	v := cdxVuln{
		ID:             n.Get("id"),
		Source:         xmlSource(n.Kid("source")),
		Description:    n.Get("description"),
		Detail:         n.Get("detail"),
		Recommendation: n.Get("recommendation"),
		Workaround:     n.Get("workaround"),
	}
	warn := func(what, text string) {
		*warnings = append(*warnings, fmt.Sprintf("vulnerability %q: %s %q is not a number: ignored",
			parseutil.Truncate(v.ID, 64), what, parseutil.TruncateEllipsis(text, 40)))
	}
	for _, ref := range n.All("references", "reference") {
		v.References = append(v.References, struct {
			ID     string     `json:"id"`
			Source *cdxSource `json:"source"`
		}{ref.Get("id"), xmlSource(ref.Kid("source"))})
	}
	for _, r := range n.All("ratings", "rating") {
		rt := cdxRating{Source: xmlSource(r.Kid("source")), Severity: r.Get("severity"), Method: r.Get("method"), Vector: r.Get("vector")}
		if txt := r.Get("score"); txt != "" {
			if f, err := strconv.ParseFloat(txt, 64); err == nil && !math.IsInf(f, 0) {
				rt.Score = &f
			} else {
				warn("rating score", txt)
			}
		}
		v.Ratings = append(v.Ratings, rt)
	}
	for _, c := range n.All("cwes", "cwe") {
		if id, err := strconv.Atoi(strings.TrimPrefix(strings.ToUpper(c.Text), "CWE-")); err == nil {
			v.CWEs = append(v.CWEs, id)
		} else {
			warn("cwe", c.Text)
		}
	}
	for _, a := range n.All("advisories", "advisory") {
		v.Advisories = append(v.Advisories, struct {
			Title string `json:"title"`
			URL   string `json:"url"`
		}{a.Get("title"), a.Get("url")})
	}
	if a := n.Kid("analysis"); a != nil {
		v.Analysis = &struct {
			State         string   `json:"state"`
			Justification string   `json:"justification"`
			Response      []string `json:"response"`
			Detail        string   `json:"detail"`
		}{State: a.Get("state"), Justification: a.Get("justification"), Detail: a.Get("detail")}
		for _, r := range a.All("responses", "response") {
			v.Analysis.Response = append(v.Analysis.Response, r.Text)
		}
	}
	for _, t := range n.All("affects", "target") {
		var aff struct {
			Ref      string `json:"ref"`
			Versions []struct {
				Version string `json:"version"`
				Status  string `json:"status"`
			} `json:"versions"`
		}
		aff.Ref = t.Get("ref")
		for _, ver := range t.All("versions", "version") {
			aff.Versions = append(aff.Versions, struct {
				Version string `json:"version"`
				Status  string `json:"status"`
			}{ver.Get("version"), ver.Get("status")})
		}
		v.Affects = append(v.Affects, aff)
	}
	return v
}

// detectXML reports whether head is a CycloneDX XML BOM.
func detectXML(head []byte) bool {
	root, ok := xmlscan.RootElement(head)
	return ok && isBOMRoot(root)
}
