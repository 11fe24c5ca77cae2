// Package nmap parses Nmap XML reports (`nmap -oX`, root element <nmaprun>) into the normalised
// importers.Report.
//
// # What is read
//
// Nmap is mostly inventory. Every <host> whose status is "up" (or that has no status) becomes a
// host asset: its IPv4 and IPv6 addresses, MAC addresses (upper-case), host names (user-given and
// PTR, de-duplicated), the best OS match (highest accuracy, first on a tie) and a service for
// every <port> listed, whatever its state, with protocol, state, service name, product, version
// and CPEs. Hosts that are down are not assets. Two <host> elements with the same identity (see
// below) are merged into one asset.
//
// Findings come only from NSE script output that reports vulnerabilities:
//
//   - the vulners script: every entry whose id is a CVE id becomes one finding per (host, port,
//     CVE), with the Vulners CVSS score (recorded as a CVSS v2.0 score from source "vulners",
//     which is what the Vulners database's "cvss" field holds) and a severity from that score.
//     Exploit entries (Metasploit, Exploit-DB, …) whose id names one of those CVEs are added to
//     its references. Structured <table> output is used when present, else the text output.
//   - scripts built on Nmap's vulns library (smb-vuln-*, ssl-heartbleed, http-vuln-*, …): every
//     vulnerability whose state is VULNERABLE, LIKELY VULNERABLE or VULNERABLE (…) becomes a
//     finding with its title, CVE ids, description, references and CVSS scores. Structured
//     tables are used when present, else the "State: VULNERABLE" blocks of the text output.
//     "NOT VULNERABLE" entries are ignored.
//
// Severity: the highest score given (>=9 critical, >=7 high, >=4 medium, >0 low, 0 info), else
// the script's "Risk factor" (HIGH, MEDIUM, LOW), else medium for a confirmed vulnerable state.
// ScannerSeverity keeps the risk factor, else the score as written.
//
// # Fingerprints
//
// A fingerprint is the lower-case hex SHA-256 of the JSON encoding of the array of strings
//
//	["nmap/v1", host, port, scriptID, vulnID]
//
// host is the host identity: "ip:"+the first IPv4 or IPv6 address (canonical form), else
// "mac:"+the first MAC, else "name:"+the first host name; port is "<portid>/<protocol>" ("22/tcp")
// or "host" for host scripts; vulnID is the CVE id for vulners, else the vulnerability's key in
// the script output (a CVE id, or an id such as "NMAP-3"), else its first listed id, else its
// title. The same report imported twice gives the same fingerprints; a CVE on two ports gives
// two. A host with no address and no name (never seen in practice) is "unidentified:<n>", n
// counting such hosts in document order.
//
// # Limits
//
// Parse reads at most Parser.MaxBytes (DefaultMaxBytes), refuses element nesting deeper than
// Parser.MaxDepth (DefaultMaxDepth) and any DOCTYPE that declares entities (a plain
// "<!DOCTYPE nmaprun>" is fine; entities are never expanded and external ones never fetched).
// Invalid UTF-8, undefined entities, a truncated document, a port outside 0-65535 or a score
// outside 0-10 give a *importers.ParseError with line, column and byte offset; a cancelled
// context gives ctx.Err() unwrapped.
//
// Target is the command line (nmaprun args, hint "scan"): it names the scanned targets.
package nmap

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
	"github.com/socplatform/soc/commands/scans/importers/internal/xmlscan"
)

const formatName = "nmap"

// Parser parses Nmap XML reports. The zero value uses the default limits.
type Parser struct {
	// MaxBytes is the largest report accepted; 0 means DefaultMaxBytes.
	MaxBytes int64
	// MaxDepth is the deepest element nesting accepted; 0 means DefaultMaxDepth.
	MaxDepth int
}

// New returns an Nmap parser with the default limits.
func New() importers.Parser { return &Parser{} }

var _ importers.Parser = (*Parser)(nil)

// Format implements importers.Parser.
func (*Parser) Format() string { return formatName }

// Detect reports whether the first element of head is <nmaprun>.
func (*Parser) Detect(head []byte) bool { return detectRoot(head) }

// Wire types.

// portNum is a port number attribute: an integer in [0, 65535].
type portNum int

func (p *portNum) UnmarshalXMLAttr(a xml.Attr) error {
	v, err := attrInt(a, 65535, "portid", "a port number (0-65535)")
	*p = portNum(v)
	return err
}

// percent is an accuracy attribute: an integer in [0, 100].
type percent int

func (p *percent) UnmarshalXMLAttr(a xml.Attr) error {
	v, err := attrInt(a, 100, "accuracy", "a percentage")
	*p = percent(v)
	return err
}

// attrInt is a's value as an integer in [0, max]; name and want word the error.
func attrInt(a xml.Attr, max int, name, want string) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(a.Value))
	if err != nil || v < 0 || v > max {
		return 0, errors.New(name + " " + strconv.Quote(parseutil.TruncateEllipsis(a.Value, 40)) + " is not " + want)
	}
	return v, nil
}

type xElem struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

type xTable struct {
	Key    string   `xml:"key,attr"`
	Tables []xTable `xml:"table"`
	Elems  []xElem  `xml:"elem"`
}

func (t *xTable) elem(key string) (string, bool) {
	for _, e := range t.Elems {
		if e.Key == key {
			return e.Value, true
		}
	}
	return "", false
}

func (t *xTable) table(key string) *xTable {
	for i := range t.Tables {
		if t.Tables[i].Key == key {
			return &t.Tables[i]
		}
	}
	return nil
}

type xScript struct {
	ID     string   `xml:"id,attr"`
	Output string   `xml:"output,attr"`
	Tables []xTable `xml:"table"`
	Elems  []xElem  `xml:"elem"`
}

type xService struct {
	Name    string   `xml:"name,attr"`
	Product string   `xml:"product,attr"`
	Version string   `xml:"version,attr"`
	CPEs    []string `xml:"cpe"`
}

type xPort struct {
	Protocol string  `xml:"protocol,attr"`
	PortID   portNum `xml:"portid,attr"`
	State    struct {
		State string `xml:"state,attr"`
	} `xml:"state"`
	Service *xService `xml:"service"`
	Scripts []xScript `xml:"script"`
}

type xHost struct {
	Status *struct {
		State string `xml:"state,attr"`
	} `xml:"status"`
	Addresses []struct {
		Addr     string `xml:"addr,attr"`
		AddrType string `xml:"addrtype,attr"`
	} `xml:"address"`
	Hostnames []struct {
		Name string `xml:"name,attr"`
	} `xml:"hostnames>hostname"`
	Ports     []xPort `xml:"ports>port"`
	OSMatches []struct {
		Name     string  `xml:"name,attr"`
		Accuracy percent `xml:"accuracy,attr"`
	} `xml:"os>osmatch"`
	HostScripts []xScript `xml:"hostscript>script"`
}

type xRunstats struct {
	Finished struct {
		Time string `xml:"time,attr"`
	} `xml:"finished"`
}

// Parse implements importers.Parser.
func (p *Parser) Parse(ctx context.Context, r io.Reader) (*importers.Report, error) {
	maxBytes, maxDepth := p.MaxBytes, p.MaxDepth
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxDepth <= 0 {
		maxDepth = DefaultMaxDepth
	}
	raw := xml.NewDecoder(&guardReader{ctx: ctx, r: r, max: maxBytes})
	raw.Strict = true
	raw.CharsetReader = charsetReader
	g := &guardTokens{raw: raw, guard: xmlscan.Guard{Ctx: ctx, MaxDepth: maxDepth}}
	dec := xml.NewTokenDecoder(g)

	b := &builder{
		rep:     &importers.Report{Format: formatName, ScannerName: "nmap", Assets: []importers.Asset{}, Findings: []importers.Finding{}},
		byKey:   map[string]int{},
		seenFP:  map[string]bool{},
		g:       g,
		unnamed: 0,
	}
	sawRoot, rootClosed := false, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, g.fail(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case g.guard.Depth() == 1:
				if rootClosed {
					return nil, g.errAt("unexpected element <" + t.Name.Local + "> after </nmaprun>")
				}
				if t.Name.Local != "nmaprun" {
					return nil, g.errAt("not an Nmap XML report: the root element is <" + t.Name.Local + ">, not <nmaprun>")
				}
				sawRoot = true
				if err := b.root(t); err != nil {
					return nil, err
				}
			case g.guard.Depth() == 2 && t.Name.Local == "host":
				var h xHost
				if err := dec.DecodeElement(&h, &t); err != nil {
					return nil, g.fail(err)
				}
				if err := b.host(&h); err != nil {
					return nil, err
				}
			case g.guard.Depth() == 2 && t.Name.Local == "runstats":
				var rs xRunstats
				if err := dec.DecodeElement(&rs, &t); err != nil {
					return nil, g.fail(err)
				}
				if rs.Finished.Time != "" {
					ts, err := unixTime(rs.Finished.Time)
					if err != nil {
						return nil, g.errAt("runstats/finished time: " + err.Error())
					}
					b.rep.FinishedAt = ts
				}
			case g.guard.Depth() >= 2:
				if err := dec.Skip(); err != nil {
					return nil, g.fail(err)
				}
			}
		case xml.EndElement:
			if g.guard.Depth() == 0 {
				rootClosed = true
			}
		case xml.CharData:
			if g.guard.Depth() == 0 && len(strings.TrimSpace(string(t))) > 0 {
				return nil, g.errAt("text outside the root element")
			}
		}
	}
	if !sawRoot {
		return nil, g.errAt("not an Nmap XML report: no <nmaprun> element")
	}
	return importers.Bounded(b.rep, nil)
}

func unixTime(s string) (time.Time, error) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 || v > 1<<40 {
		return time.Time{}, errors.New(strconv.Quote(parseutil.TruncateEllipsis(s, 40)) + " is not a Unix time")
	}
	return time.Unix(v, 0).UTC(), nil
}

type builder struct {
	rep     *importers.Report
	byKey   map[string]int
	seenFP  map[string]bool
	g       *guardTokens
	unnamed int
}

func (b *builder) root(t xml.StartElement) error {
	for _, a := range t.Attr {
		switch a.Name.Local {
		case "scanner":
			if a.Value != "" {
				b.rep.ScannerName = a.Value
			}
		case "version":
			b.rep.ScannerVersion = a.Value
		case "args":
			// The command line names the scanned targets (hosts have their own identities; this
			// is what a user recognises the scan by).
			if args := strings.TrimSpace(a.Value); args != "" {
				b.rep.Target = &importers.Target{Name: parseutil.Truncate(args, parseutil.MaxShort), Hint: "scan"}
			}
		case "start":
			ts, err := unixTime(a.Value)
			if err != nil {
				return b.g.errAt("nmaprun start: " + err.Error())
			}
			b.rep.StartedAt = ts
		}
	}
	return nil
}

func canonIP(s string) string {
	if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
		return a.String()
	}
	return strings.TrimSpace(s)
}

func (b *builder) host(h *xHost) error {
	if h.Status != nil && !strings.EqualFold(h.Status.State, "up") {
		return nil
	}
	var a importers.Asset
	a.Kind = importers.Host
	for _, ad := range h.Addresses {
		switch strings.ToLower(ad.AddrType) {
		case "ipv4", "ipv6", "":
			a.IPs = parseutil.AppendUnique(a.IPs, canonIP(ad.Addr))
		case "mac":
			a.MACs = parseutil.AppendUnique(a.MACs, strings.ToUpper(strings.TrimSpace(ad.Addr)))
		}
	}
	for _, hn := range h.Hostnames {
		a.Hostnames = parseutil.AppendUnique(a.Hostnames, strings.TrimSpace(hn.Name))
	}
	best := -1
	for _, m := range h.OSMatches {
		if int(m.Accuracy) > best && m.Name != "" {
			best, a.OS = int(m.Accuracy), m.Name
		}
	}
	switch {
	case len(a.IPs) > 0:
		a.Key = "ip:" + a.IPs[0]
	case len(a.MACs) > 0:
		a.Key = "mac:" + a.MACs[0]
	case len(a.Hostnames) > 0:
		a.Key = "name:" + a.Hostnames[0]
	default:
		b.unnamed++
		a.Key = "unidentified:" + strconv.Itoa(b.unnamed)
	}
	switch {
	case len(a.Hostnames) > 0:
		a.Name = a.Hostnames[0]
	case len(a.IPs) > 0:
		a.Name = a.IPs[0]
	case len(a.MACs) > 0:
		a.Name = a.MACs[0]
	default:
		a.Name = a.Key
	}
	hostAddr := ""
	if len(a.IPs) > 0 {
		hostAddr = a.IPs[0]
	}
	for i := range h.Ports {
		pt := &h.Ports[i]
		s := importers.Service{Port: int(pt.PortID), Protocol: strings.ToLower(pt.Protocol), State: pt.State.State}
		if pt.Service != nil {
			s.Name, s.Product, s.Version = pt.Service.Name, pt.Service.Product, pt.Service.Version
			for _, c := range pt.Service.CPEs {
				s.CPEs = parseutil.AppendUnique(s.CPEs, strings.TrimSpace(c))
			}
		}
		a.Services = append(a.Services, s)
	}

	// Findings.
	var findings []importers.Finding
	for i := range h.Ports {
		pt := &h.Ports[i]
		portKey := strconv.Itoa(int(pt.PortID)) + "/" + strings.ToLower(pt.Protocol)
		loc := importers.Location{Host: hostAddr, Port: int(pt.PortID), Protocol: strings.ToLower(pt.Protocol)}
		for j := range pt.Scripts {
			fs, err := scriptFindings(&pt.Scripts[j], a.Key, portKey, loc, pt.Service)
			if err != nil {
				return b.g.errAt("host " + a.Key + " port " + portKey + ": " + err.Error())
			}
			findings = append(findings, fs...)
		}
	}
	for j := range h.HostScripts {
		fs, err := scriptFindings(&h.HostScripts[j], a.Key, "host", importers.Location{Host: hostAddr}, nil)
		if err != nil {
			return b.g.errAt("host " + a.Key + ": " + err.Error())
		}
		findings = append(findings, fs...)
	}

	if i, ok := b.byKey[a.Key]; ok {
		mergeAsset(&b.rep.Assets[i], &a)
	} else {
		b.byKey[a.Key] = len(b.rep.Assets)
		b.rep.Assets = append(b.rep.Assets, a)
	}
	for _, f := range findings {
		if b.seenFP[f.Fingerprint] {
			continue
		}
		b.seenFP[f.Fingerprint] = true
		f.AssetKey = a.Key
		b.rep.Findings = append(b.rep.Findings, f)
	}
	return nil
}

func mergeAsset(dst, src *importers.Asset) {
	dst.IPs = parseutil.AppendUnique(dst.IPs, src.IPs...)
	dst.MACs = parseutil.AppendUnique(dst.MACs, src.MACs...)
	dst.Hostnames = parseutil.AppendUnique(dst.Hostnames, src.Hostnames...)
	if dst.OS == "" {
		dst.OS = src.OS
	}
	for _, s := range src.Services {
		dup := false
		for _, d := range dst.Services {
			if d.Port == s.Port && d.Protocol == s.Protocol {
				dup = true
				break
			}
		}
		if !dup {
			dst.Services = append(dst.Services, s)
		}
	}
}

// parseScore reads a CVSS score in [0, 10].
func parseScore(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 10 {
		return 0, errors.New("score " + strconv.Quote(parseutil.TruncateEllipsis(s, 40)) + " is not a number in [0, 10]")
	}
	return f, nil
}

var (
	reCVE      = regexp.MustCompile(`(?i)\bCVE-\d{4}-\d{4,}\b`)
	reCVEOnly  = regexp.MustCompile(`^(?i)CVE-\d{4}-\d{4,}$`)
	reRisk     = regexp.MustCompile(`(?i)Risk factor:\s*(CRITICAL|HIGH|MEDIUM|LOW|NONE)`)
	reScoreVec = regexp.MustCompile(`^\s*(\d+(?:\.\d+)?)(?:\s*\(([A-Za-z]+)\))?(?:\s*\(([^()]*)\))?`)
)

func scriptFindings(s *xScript, host, portKey string, loc importers.Location, svc *xService) ([]importers.Finding, error) {
	if s.ID == "vulners" {
		return vulnersFindings(s, host, portKey, loc, svc)
	}
	return vulnsLibFindings(s, host, portKey, loc)
}

type vulnersEntry struct {
	id      string
	typ     string
	score   float64
	raw     string
	exploit bool
	cpe     string
}

func vulnersEntries(s *xScript) ([]vulnersEntry, error) {
	var out []vulnersEntry
	if len(s.Tables) > 0 {
		for ti := range s.Tables {
			cpe := &s.Tables[ti]
			for ei := range cpe.Tables {
				t := &cpe.Tables[ei]
				id, _ := t.elem("id")
				e := vulnersEntry{id: strings.TrimSpace(id), cpe: cpe.Key}
				e.typ, _ = t.elem("type")
				if x, _ := t.elem("is_exploit"); strings.EqualFold(strings.TrimSpace(x), "true") {
					e.exploit = true
				}
				if c, ok := t.elem("cvss"); ok && strings.TrimSpace(c) != "" {
					f, err := parseScore(c)
					if err != nil {
						return nil, errors.New("vulners " + e.id + ": " + err.Error())
					}
					e.score, e.raw = f, strings.TrimSpace(c)
				}
				out = append(out, e)
			}
		}
		return out, nil
	}
	// Text output: "cpe:/a:x:y:1.0: " headers, then "<id> <score> <url> [*EXPLOIT*]" lines.
	cpe := ""
	for _, line := range strings.Split(s.Output, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 1 && strings.HasPrefix(fields[0], "cpe:") {
			cpe = strings.TrimSuffix(fields[0], ":")
			continue
		}
		if len(fields) < 2 {
			continue
		}
		if _, err := strconv.ParseFloat(fields[1], 64); err != nil {
			continue
		}
		f, err := parseScore(fields[1])
		if err != nil {
			return nil, errors.New("vulners " + fields[0] + ": " + err.Error())
		}
		e := vulnersEntry{id: fields[0], score: f, raw: fields[1], cpe: cpe, exploit: strings.Contains(line, "*EXPLOIT*")}
		if len(fields) > 2 && strings.HasPrefix(fields[2], "https://vulners.com/") {
			parts := strings.Split(strings.TrimPrefix(fields[2], "https://vulners.com/"), "/")
			e.typ = parts[0]
		}
		out = append(out, e)
	}
	return out, nil
}

func vulnersURL(e *vulnersEntry) string {
	typ := e.typ
	if typ == "" {
		typ = "cve"
	}
	return "https://vulners.com/" + typ + "/" + e.id
}

func vulnersFindings(s *xScript, host, portKey string, loc importers.Location, svc *xService) ([]importers.Finding, error) {
	entries, err := vulnersEntries(s)
	if err != nil {
		return nil, err
	}
	var out []importers.Finding
	index := map[string]int{}
	for i := range entries {
		e := &entries[i]
		if !reCVEOnly.MatchString(e.id) || (e.typ != "" && !strings.EqualFold(e.typ, "cve")) {
			continue
		}
		cve := strings.ToUpper(e.id)
		if j, ok := index[cve]; ok { // listed under two CPEs: keep the higher score
			f := &out[j]
			if f.CVSS[0].Score == nil || e.score > *f.CVSS[0].Score {
				sc := e.score
				f.CVSS[0].Score = &sc
				f.Severity, f.ScannerSeverity = parseutil.SeverityFromScore(sc), e.raw
			}
			continue
		}
		sc := e.score
		f := importers.Finding{
			Fingerprint:     parseutil.FingerprintJSON("nmap/v1", host, portKey, s.ID, cve),
			Severity:        parseutil.SeverityFromScore(e.score),
			ScannerSeverity: e.raw,
			CVSS:            []importers.CVSS{{Version: "2.0", Score: &sc, Source: "vulners"}},
			CVEs:            []string{cve},
			RuleID:          s.ID,
			Location:        loc,
			References:      []string{vulnersURL(e)},
		}
		product := ""
		if svc != nil {
			product = strings.TrimSpace(svc.Product + " " + svc.Version)
			name := svc.Product
			if name == "" {
				name = svc.Name
			}
			if name != "" {
				f.Component = &importers.Component{Name: name, Version: svc.Version}
			}
		}
		if product == "" {
			product = e.cpe
		}
		f.Title = cve
		if product != "" {
			f.Title += " in " + product
		}
		f.Evidence = "vulners: " + cve + " CVSS " + e.raw
		if e.cpe != "" {
			f.Evidence += " for " + e.cpe
		}
		index[cve] = len(out)
		out = append(out, f)
	}
	// Exploits naming one of the CVEs become references of that finding.
	for i := range entries {
		e := &entries[i]
		if !e.exploit {
			continue
		}
		for _, m := range reCVE.FindAllString(e.id, -1) {
			if j, ok := index[strings.ToUpper(m)]; ok {
				out[j].References = parseutil.AppendUnique(out[j].References, vulnersURL(e))
				if !strings.Contains(out[j].Evidence, "exploit") {
					out[j].Evidence += "; a public exploit is listed"
				}
			}
		}
	}
	return out, nil
}

func isVulnerable(state string) bool {
	s := strings.ToUpper(strings.TrimSpace(state))
	return strings.HasPrefix(s, "VULNERABLE") || strings.HasPrefix(s, "LIKELY VULNERABLE")
}

type vulnInfo struct {
	key, title, state string
	ids, refs         []string
	description       string
	scores            []importers.CVSS
	scoreRaw          string
	risk              string
}

// riskSeverity maps the vulns library's "Risk factor" (upper case): the four severity words, and
// NONE as info.
func riskSeverity(r string) (importers.Severity, bool) {
	if strings.EqualFold(r, "none") {
		return importers.Info, true
	}
	return parseutil.SeverityWord(strings.ToLower(r))
}

// parseScoreText reads "10.0 (HIGH) (AV:N/AC:L/Au:N/C:C/I:C/A:C)" as written by the vulns library.
func parseScoreText(key, txt string) (importers.CVSS, error) {
	m := reScoreVec.FindStringSubmatch(txt)
	if m == nil {
		return importers.CVSS{}, errors.New(key + " " + strconv.Quote(parseutil.TruncateEllipsis(txt, 40)) + " does not start with a score")
	}
	f, err := parseScore(m[1])
	if err != nil {
		return importers.CVSS{}, errors.New(key + ": " + err.Error())
	}
	c := importers.CVSS{Score: &f, Vector: strings.TrimSpace(m[3]), Source: "nmap"}
	switch {
	case strings.HasPrefix(c.Vector, "CVSS:3.0/"):
		c.Version = "3.0"
	case strings.HasPrefix(c.Vector, "CVSS:3.1/"):
		c.Version = "3.1"
	case strings.HasPrefix(c.Vector, "CVSS:4.0/"):
		c.Version = "4.0"
	case strings.Contains(strings.ToUpper(key), "V3"):
		c.Version = "3.1"
	default:
		c.Version = "2.0"
	}
	return c, nil
}

func vulnsLibFindings(s *xScript, host, portKey string, loc importers.Location) ([]importers.Finding, error) {
	var vulns []vulnInfo
	for i := range s.Tables {
		t := &s.Tables[i]
		state, ok := t.elem("state")
		if !ok || !isVulnerable(state) {
			continue
		}
		v := vulnInfo{key: t.Key, state: strings.TrimSpace(state)}
		v.title, _ = t.elem("title")
		v.title = strings.TrimSpace(v.title)
		if ids := t.table("ids"); ids != nil {
			for _, e := range ids.Elems {
				v.ids = parseutil.AppendUnique(v.ids, strings.TrimSpace(e.Value))
			}
		}
		if refs := t.table("refs"); refs != nil {
			for _, e := range refs.Elems {
				v.refs = parseutil.AppendUnique(v.refs, strings.TrimSpace(e.Value))
			}
		}
		if d := t.table("description"); d != nil {
			var parts []string
			for _, e := range d.Elems {
				if p := strings.TrimSpace(e.Value); p != "" {
					parts = append(parts, p)
				}
			}
			v.description = strings.Join(parts, "\n")
		}
		if sc := t.table("scores"); sc != nil {
			for _, e := range sc.Elems {
				c, err := parseScoreText(e.Key, e.Value)
				if err != nil {
					return nil, errors.New(s.ID + ": " + err.Error())
				}
				v.scores = append(v.scores, c)
				if v.scoreRaw == "" {
					v.scoreRaw = strings.TrimSpace(e.Key + " " + e.Value)
				}
			}
		}
		vulns = append(vulns, v)
	}
	if len(s.Tables) == 0 && strings.Contains(s.Output, "VULNERABLE") {
		vulns = textVulns(s.Output)
	}
	// Risk factors are only in the text output: take the one in each vulnerability's block.
	for i := range vulns {
		start := 0
		if vulns[i].title != "" {
			if j := strings.Index(s.Output, vulns[i].title); j >= 0 {
				start = j
			}
		}
		end := len(s.Output)
		if i+1 < len(vulns) && vulns[i+1].title != "" {
			if j := strings.Index(s.Output[start:], vulns[i+1].title); j > 0 {
				end = start + j
			}
		}
		if m := reRisk.FindStringSubmatch(s.Output[start:end]); m != nil && vulns[i].risk == "" {
			vulns[i].risk = strings.ToUpper(m[1])
		}
	}
	var out []importers.Finding
	for i := range vulns {
		v := &vulns[i]
		f := importers.Finding{
			Title:       v.title,
			RuleID:      s.ID,
			CVSS:        v.scores,
			Location:    loc,
			Description: v.description,
			References:  v.refs,
			Evidence:    parseutil.TruncateEllipsis(strings.TrimSpace(s.Output), 4096),
		}
		for _, id := range v.ids {
			if m := reCVE.FindString(id); m != "" {
				f.CVEs = parseutil.AppendUnique(f.CVEs, strings.ToUpper(m))
			}
		}
		if m := reCVEOnly.FindString(v.key); m != "" {
			f.CVEs = parseutil.AppendUnique(f.CVEs, strings.ToUpper(m))
		}
		vulnID := v.key
		if vulnID == "" && len(v.ids) > 0 {
			vulnID = v.ids[0]
		}
		if vulnID == "" {
			vulnID = v.title
		}
		if f.Title == "" {
			f.Title = vulnID
		}
		best, hasScore := -1.0, false
		for _, c := range v.scores {
			if c.Score != nil && *c.Score > best {
				best, hasScore = *c.Score, true
			}
		}
		sev, hasRisk := riskSeverity(v.risk)
		switch {
		case hasScore:
			f.Severity = parseutil.SeverityFromScore(best)
		case hasRisk:
			f.Severity = sev
		default:
			f.Severity = importers.Medium
		}
		switch {
		case v.risk != "":
			f.ScannerSeverity = v.risk
		case v.scoreRaw != "":
			f.ScannerSeverity = v.scoreRaw
		default:
			f.ScannerSeverity = v.state
		}
		f.Fingerprint = parseutil.FingerprintJSON("nmap/v1", host, portKey, s.ID, vulnID)
		out = append(out, f)
	}
	return out, nil
}

// textVulns reads the vulns library's text blocks:
//
//	VULNERABLE:
//	Title of the vulnerability
//	  State: VULNERABLE
//	  IDs:  CVE:CVE-2017-0143  BID:12345
//	  Risk factor: HIGH
//	  References:
//	    https://…
func textVulns(output string) []vulnInfo {
	lines := strings.Split(output, "\n")
	var out []vulnInfo
	for i, l := range lines {
		t := strings.TrimSpace(l)
		state, ok := strings.CutPrefix(t, "State:")
		if !ok || !isVulnerable(state) {
			continue
		}
		v := vulnInfo{state: strings.TrimSpace(state)}
		for k := i - 1; k >= 0; k-- {
			prev := strings.TrimSpace(lines[k])
			if prev != "" && !strings.HasSuffix(prev, "VULNERABLE:") {
				v.title = prev
				break
			}
		}
		inRefs := false
		for k := i + 1; k < len(lines); k++ {
			n := strings.TrimSpace(lines[k])
			if strings.HasPrefix(n, "State:") || strings.HasSuffix(n, "VULNERABLE:") {
				break
			}
			switch {
			case strings.HasPrefix(n, "IDs:"):
				for _, id := range strings.Fields(strings.TrimPrefix(n, "IDs:")) {
					v.ids = parseutil.AppendUnique(v.ids, id)
				}
				inRefs = false
			case strings.HasPrefix(n, "References:"):
				inRefs = true
			case inRefs && (strings.HasPrefix(n, "http://") || strings.HasPrefix(n, "https://")):
				v.refs = parseutil.AppendUnique(v.refs, n)
			}
		}
		if len(out) > 0 && v.title == out[len(out)-1].title {
			continue
		}
		out = append(out, v)
	}
	return out
}
