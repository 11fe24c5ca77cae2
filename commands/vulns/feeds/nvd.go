package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// CVE is one NVD CVE record, normalised.
type CVE struct {
	ID               string    `json:"id"`
	SourceIdentifier string    `json:"source_identifier,omitempty"`
	Published        time.Time `json:"published"`
	LastModified     time.Time `json:"last_modified"`
	VulnStatus       string    `json:"vuln_status,omitempty"` // "Analyzed", "Modified", "Rejected", …
	// Description is the English description (lang "en" or "en-*"), "" when there is none.
	Description string   `json:"description,omitempty"`
	CVSS        []Rating `json:"cvss,omitempty"` // v4.0, then v3.1, v3.0, v2.0; feed order within a version
	// CWEs are the distinct "CWE-<n>" weaknesses of every source, in order of first appearance.
	CWEs []string `json:"cwes,omitempty"`
	// OtherWeaknesses are the distinct weakness values that are not CWE ids: NVD's placeholders
	// "NVD-CWE-Other" (a weakness outside the CWE view NVD uses) and "NVD-CWE-noinfo" (not enough
	// information). They are kept apart so CWEs holds only real ids, and kept at all because
	// "NVD looked and found no CWE" differs from "not analysed yet" (no weaknesses).
	OtherWeaknesses []string `json:"other_weaknesses,omitempty"`
	References      []string `json:"references,omitempty"` // distinct URLs, feed order
	// CPEs are the distinct criteria of the vulnerable cpeMatch entries of every configuration.
	CPEs []string `json:"cpes,omitempty"`
	// CPEMatches are those entries with their version bounds (one per entry, not deduplicated:
	// the same criteria usually appears once per affected version range).
	CPEMatches []CPEMatch `json:"cpe_matches,omitempty"`
	// KEV is CISA's KEV data as NVD copies it (cisaExploitAdd, …); nil when absent.
	KEV *KEVInfo `json:"kev,omitempty"`
}

// Rating is one CVSS rating of a CVE.
type Rating struct {
	Version   string  `json:"version"` // "2.0", "3.0", "3.1", "4.0"
	Vector    string  `json:"vector"`
	BaseScore float64 `json:"base_score"`
	Severity  string  `json:"severity,omitempty"` // as NVD gives it: "CRITICAL", "HIGH", "MEDIUM", "LOW", "NONE"
	Source    string  `json:"source,omitempty"`   // who scored it: "nvd@nist.gov", a CNA's address
	Type      string  `json:"type,omitempty"`     // "Primary" (NVD's own) or "Secondary" (a CNA's)
}

// KEVInfo is the KEV data NVD attaches to a CVE.
type KEVInfo struct {
	DateAdded         time.Time `json:"date_added"`         // cisaExploitAdd
	DueDate           time.Time `json:"due_date,omitzero"`  // cisaActionDue
	RequiredAction    string    `json:"required_action"`    // cisaRequiredAction
	VulnerabilityName string    `json:"vulnerability_name"` // cisaVulnerabilityName
}

// CPEMatch is one vulnerable cpeMatch entry of a CVE's configurations.
type CPEMatch struct {
	Criteria              string `json:"criteria"`
	MatchCriteriaID       string `json:"match_criteria_id,omitempty"`
	VersionStartIncluding string `json:"version_start_including,omitempty"`
	VersionStartExcluding string `json:"version_start_excluding,omitempty"`
	VersionEndIncluding   string `json:"version_end_including,omitempty"`
	VersionEndExcluding   string `json:"version_end_excluding,omitempty"`
}

// NVDHeader is the header of an NVD CVE API 2.0 response page.
type NVDHeader struct {
	ResultsPerPage int       `json:"results_per_page"`
	StartIndex     int       `json:"start_index"`
	TotalResults   int       `json:"total_results"`
	Format         string    `json:"format"`  // "NVD_CVE"
	Version        string    `json:"version"` // "2.0"
	Timestamp      time.Time `json:"timestamp,omitzero"`
}

// The NVD CVE API 2.0 schema, reduced to what CVE needs. Unknown members are ignored.
type nvdItemJSON struct {
	CVE        *nvdCVEJSON `json:"cve"`
	nvdCVEJSON             // a bare CVE object in place of {"cve": …}
}

type nvdCVEJSON struct {
	ID               string         `json:"id"`
	SourceIdentifier string         `json:"sourceIdentifier"`
	Published        string         `json:"published"`
	LastModified     string         `json:"lastModified"`
	VulnStatus       string         `json:"vulnStatus"`
	Descriptions     []nvdLangValue `json:"descriptions"`
	Metrics          struct {
		V40 []nvdMetricJSON `json:"cvssMetricV40"`
		V31 []nvdMetricJSON `json:"cvssMetricV31"`
		V30 []nvdMetricJSON `json:"cvssMetricV30"`
		V2  []nvdMetricJSON `json:"cvssMetricV2"`
	} `json:"metrics"`
	Weaknesses []struct {
		Description []nvdLangValue `json:"description"`
	} `json:"weaknesses"`
	Configurations []struct {
		Nodes []nvdNodeJSON `json:"nodes"`
	} `json:"configurations"`
	References []struct {
		URL string `json:"url"`
	} `json:"references"`
	CisaExploitAdd        string `json:"cisaExploitAdd"`
	CisaActionDue         string `json:"cisaActionDue"`
	CisaRequiredAction    string `json:"cisaRequiredAction"`
	CisaVulnerabilityName string `json:"cisaVulnerabilityName"`
}

type nvdLangValue struct {
	Lang  string `json:"lang"`
	Value string `json:"value"`
}

type nvdMetricJSON struct {
	Source   string `json:"source"`
	Type     string `json:"type"`
	CVSSData struct {
		Version      string   `json:"version"`
		VectorString string   `json:"vectorString"`
		BaseScore    *float64 `json:"baseScore"`
		BaseSeverity string   `json:"baseSeverity"`
	} `json:"cvssData"`
	BaseSeverity string `json:"baseSeverity"` // v2 keeps it beside cvssData
}

type nvdNodeJSON struct {
	CPEMatch []struct {
		Vulnerable            bool   `json:"vulnerable"`
		Criteria              string `json:"criteria"`
		MatchCriteriaID       string `json:"matchCriteriaId"`
		VersionStartIncluding string `json:"versionStartIncluding"`
		VersionStartExcluding string `json:"versionStartExcluding"`
		VersionEndIncluding   string `json:"versionEndIncluding"`
		VersionEndExcluding   string `json:"versionEndExcluding"`
	} `json:"cpeMatch"`
	Children []nvdNodeJSON `json:"children"` // not in API 2.0 data; read if present
}

// ParseNVD reads NVD CVE API 2.0 JSON with the default Options; see Options.ParseNVD.
func ParseNVD(ctx context.Context, r io.Reader, fn func(CVE) error) (Stats, error) {
	return Options{}.ParseNVD(ctx, r, fn)
}

// ParseNVD reads NVD CVE API 2.0 JSON and calls fn for each CVE, in feed order. The input is one
// of: an API response page (or a feed file of the same shape) `{"resultsPerPage", …,
// "vulnerabilities": [{"cve": {…}}, …]}`, whose elements are streamed; a single `{"cve": {…}}`;
// or a bare CVE object with an "id". Stats.NVD holds the page header (nil for a single CVE).
func (o Options) ParseNVD(ctx context.Context, r io.Reader, fn func(CVE) error) (Stats, error) {
	o = o.withDefaults()
	st := Stats{Feed: FeedNVD}
	d, err := newJSONDoc(ctx, r, FeedNVD, o)
	if err != nil {
		return st, err
	}
	p := &nvdParser{d: d, o: o, st: &st, fn: fn}
	start, err := d.walkObject(
		func(key string) bool {
			if key == "vulnerabilities" {
				p.paged = true // even when empty or null
				return true
			}
			return false
		},
		p.element,
		p.member,
	)
	if err == nil {
		err = p.finish(start)
	}
	st.Bytes = d.g.n
	return st, err
}

type nvdParser struct {
	d       *jsonDoc
	o       Options
	st      *Stats
	fn      func(CVE) error
	paged   bool // saw "vulnerabilities"
	wrapped bool // saw "cve"
	n       int  // elements seen
	members []nvdMember
	budget  int64
}

type nvdMember struct {
	key string
	raw json.RawMessage
	at  position
}

func (p *nvdParser) element(_ string, i int) error {
	p.n++
	field := fmt.Sprintf("vulnerabilities[%d]", i)
	var item nvdItemJSON
	start, err := p.d.decode(&item, field, i)
	if err != nil {
		return p.reject(err)
	}
	c, prefix := item.CVE, field+".cve"
	if c == nil {
		if item.ID == "" {
			return p.reject(p.d.recordErr(invalid("", "element has neither a cve object nor an id"), start, field, i))
		}
		c, prefix = &item.nvdCVEJSON, field
	}
	return p.emit(c, start, prefix, i)
}

func (p *nvdParser) member(key string) error {
	if key == "cve" {
		p.wrapped = true
		var c nvdCVEJSON
		start, err := p.d.decode(&c, "cve", 0)
		if err != nil {
			return p.reject(err)
		}
		return p.emit(&c, start, "cve", 0)
	}
	var raw json.RawMessage
	start, err := p.d.decode(&raw, key, -1)
	if err != nil {
		return err
	}
	if key == "format" {
		var f string
		if json.Unmarshal(raw, &f) != nil || f != "NVD_CVE" {
			return p.d.errAt(start, ErrUnknownFormat, "format", -1,
				fmt.Sprintf("format is %s, not \"NVD_CVE\"", truncate(string(raw), 40)))
		}
	}
	if p.budget += int64(len(raw)); p.budget > p.o.MaxRecordBytes {
		return p.d.errAt(start, ErrTooLarge, key, -1,
			fmt.Sprintf("top-level members exceed %d bytes (MaxRecordBytes)", p.o.MaxRecordBytes))
	}
	p.members = append(p.members, nvdMember{key, raw, p.d.position(start)})
	return nil
}

// finish handles what is known only at the end: the page header, or a bare CVE object.
func (p *nvdParser) finish(start int64) error {
	switch {
	case p.paged:
		return p.header()
	case p.wrapped:
		return nil
	}
	if !p.hasMember("id") {
		return p.d.errAt(start, ErrUnknownFormat, "", -1,
			"not NVD CVE API 2.0 JSON: no \"vulnerabilities\", \"cve\" or \"id\" member")
	}
	// A bare CVE object: reassemble the members (each already bounded) and decode them.
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range p.members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(m.raw)
	}
	b.WriteByte('}')
	var c nvdCVEJSON
	if err := json.Unmarshal(b.Bytes(), &c); err != nil {
		return p.reject(p.d.recordErr(err, start, "", 0)) // offsets in b mean nothing in the input
	}
	return p.emit(&c, start, "", 0)
}

func (p *nvdParser) hasMember(key string) bool {
	for _, m := range p.members {
		if m.key == key {
			return true
		}
	}
	return false
}

func (p *nvdParser) header() error {
	h := &NVDHeader{ResultsPerPage: -1, StartIndex: -1, TotalResults: -1}
	for _, m := range p.members {
		var err error
		switch m.key {
		case "resultsPerPage":
			err = json.Unmarshal(m.raw, &h.ResultsPerPage)
		case "startIndex":
			err = json.Unmarshal(m.raw, &h.StartIndex)
		case "totalResults":
			err = json.Unmarshal(m.raw, &h.TotalResults)
		case "format":
			err = json.Unmarshal(m.raw, &h.Format)
		case "version":
			err = json.Unmarshal(m.raw, &h.Version)
		case "timestamp":
			var s string
			if err = json.Unmarshal(m.raw, &s); err == nil {
				h.Timestamp, err = parseTimestamp(s)
			}
		}
		if err != nil {
			return p.d.errAtPos(m.at, ErrInvalidValue, m.key, -1, fmt.Sprintf("%s: %v", m.key, err))
		}
	}
	p.st.NVD = h
	if h.Version != "" && !strings.HasPrefix(h.Version, "2.") {
		p.st.warn(p.o, Warning{Code: WarnUnusualValue, Record: -1,
			Msg: fmt.Sprintf("API version %q, expected 2.x", truncate(h.Version, 20))})
	}
	// A page is consistent when it holds resultsPerPage elements, or it is the last page.
	if h.ResultsPerPage >= 0 && p.n != h.ResultsPerPage &&
		(h.StartIndex < 0 || h.TotalResults < 0 || h.StartIndex+p.n != h.TotalResults) {
		p.st.warn(p.o, Warning{Code: WarnCountMismatch, Record: -1,
			Msg: fmt.Sprintf("page declares resultsPerPage %d (startIndex %d, totalResults %d) but holds %d CVEs",
				h.ResultsPerPage, h.StartIndex, h.TotalResults, p.n)})
	}
	return nil
}

// emit validates a decoded CVE and hands it to fn.
func (p *nvdParser) emit(c *nvdCVEJSON, start int64, prefix string, rec int) error {
	cve, err := normaliseCVE(c)
	if err != nil {
		return p.reject(p.d.recordErr(err, start, prefix, rec))
	}
	if err := p.fn(cve); err != nil {
		return err
	}
	p.st.Records++
	return nil
}

// reject stops the parse on err, or skips the record under SkipInvalid.
func (p *nvdParser) reject(err error) error {
	return skipOrFail(p.o, p.st, err)
}

func normaliseCVE(c *nvdCVEJSON) (CVE, error) {
	if !ValidCVEID(c.ID) {
		return CVE{}, invalid("id", "not a CVE id: %q", truncate(c.ID, 40))
	}
	out := CVE{
		ID:               c.ID,
		SourceIdentifier: c.SourceIdentifier,
		VulnStatus:       c.VulnStatus,
	}
	var err error
	if c.Published != "" {
		if out.Published, err = parseTimestamp(c.Published); err != nil {
			return CVE{}, invalid("published", "%v", err)
		}
	}
	if c.LastModified != "" {
		if out.LastModified, err = parseTimestamp(c.LastModified); err != nil {
			return CVE{}, invalid("lastModified", "%v", err)
		}
	}
	for _, d := range c.Descriptions {
		if d.Lang == "en" || strings.HasPrefix(d.Lang, "en-") {
			out.Description = d.Value
			break
		}
	}
	for _, set := range []struct {
		key, version string
		metrics      []nvdMetricJSON
	}{
		{"cvssMetricV40", "4.0", c.Metrics.V40},
		{"cvssMetricV31", "3.1", c.Metrics.V31},
		{"cvssMetricV30", "3.0", c.Metrics.V30},
		{"cvssMetricV2", "2.0", c.Metrics.V2},
	} {
		for i, m := range set.metrics {
			r, err := normaliseRating(m, set.version, fmt.Sprintf("metrics.%s[%d]", set.key, i))
			if err != nil {
				return CVE{}, err
			}
			out.CVSS = append(out.CVSS, r)
		}
	}
	seen := map[string]bool{}
	for _, w := range c.Weaknesses {
		for _, d := range w.Description {
			v := d.Value
			if v == "" || seen[v] {
				continue
			}
			seen[v] = true
			if validCWEID(v) {
				out.CWEs = append(out.CWEs, v)
			} else {
				out.OtherWeaknesses = append(out.OtherWeaknesses, v)
			}
		}
	}
	clear(seen)
	for _, ref := range c.References {
		if ref.URL != "" && !seen[ref.URL] {
			seen[ref.URL] = true
			out.References = append(out.References, ref.URL)
		}
	}
	clear(seen)
	var walk func(nodes []nvdNodeJSON)
	walk = func(nodes []nvdNodeJSON) {
		for _, n := range nodes {
			for _, m := range n.CPEMatch {
				if !m.Vulnerable || m.Criteria == "" {
					continue
				}
				out.CPEMatches = append(out.CPEMatches, CPEMatch{
					Criteria:              m.Criteria,
					MatchCriteriaID:       m.MatchCriteriaID,
					VersionStartIncluding: m.VersionStartIncluding,
					VersionStartExcluding: m.VersionStartExcluding,
					VersionEndIncluding:   m.VersionEndIncluding,
					VersionEndExcluding:   m.VersionEndExcluding,
				})
				if !seen[m.Criteria] {
					seen[m.Criteria] = true
					out.CPEs = append(out.CPEs, m.Criteria)
				}
			}
			walk(n.Children) // depth is bounded by MaxDepth
		}
	}
	for _, cfg := range c.Configurations {
		walk(cfg.Nodes)
	}
	if c.CisaExploitAdd != "" || c.CisaActionDue != "" || c.CisaRequiredAction != "" || c.CisaVulnerabilityName != "" {
		k := &KEVInfo{RequiredAction: c.CisaRequiredAction, VulnerabilityName: c.CisaVulnerabilityName}
		if k.DateAdded, err = parseDate(c.CisaExploitAdd); err != nil {
			return CVE{}, invalid("cisaExploitAdd", "not a date (YYYY-MM-DD): %q", truncate(c.CisaExploitAdd, 40))
		}
		if c.CisaActionDue != "" {
			if k.DueDate, err = parseDate(c.CisaActionDue); err != nil {
				return CVE{}, invalid("cisaActionDue", "not a date (YYYY-MM-DD): %q", truncate(c.CisaActionDue, 40))
			}
		}
		out.KEV = k
	}
	return out, nil
}

// knownCVSSVersions maps a cvssData.version to the vector prefix it needs ("" for v2, which has
// none).
var knownCVSSVersions = map[string]string{"2.0": "", "3.0": "CVSS:3.0/", "3.1": "CVSS:3.1/", "4.0": "CVSS:4.0/"}

func normaliseRating(m nvdMetricJSON, keyVersion, field string) (Rating, error) {
	r := Rating{
		Version:  m.CVSSData.Version,
		Vector:   m.CVSSData.VectorString,
		Severity: m.CVSSData.BaseSeverity,
		Source:   m.Source,
		Type:     m.Type,
	}
	if r.Version == "" {
		r.Version = keyVersion
	}
	prefix, ok := knownCVSSVersions[r.Version]
	if !ok {
		return Rating{}, invalid(field+".cvssData.version", "unknown CVSS version %q", truncate(r.Version, 20))
	}
	if r.Severity == "" {
		r.Severity = m.BaseSeverity
	}
	if r.Vector == "" {
		return Rating{}, invalid(field+".cvssData.vectorString", "missing")
	}
	if prefix == "" && strings.HasPrefix(r.Vector, "CVSS:") || !strings.HasPrefix(r.Vector, prefix) {
		return Rating{}, invalid(field+".cvssData.vectorString", "vector %q is not CVSS %s",
			truncate(r.Vector, 40), r.Version)
	}
	if m.CVSSData.BaseScore == nil {
		return Rating{}, invalid(field+".cvssData.baseScore", "missing")
	}
	r.BaseScore = *m.CVSSData.BaseScore
	if !(r.BaseScore >= 0 && r.BaseScore <= 10) {
		return Rating{}, invalid(field+".cvssData.baseScore", "%v is outside 0..10", r.BaseScore)
	}
	return r, nil
}
