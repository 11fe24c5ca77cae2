package importers

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// Bounds on what a Report keeps, whatever the report held: a longer string is cut to its
// field's bound and ends with TruncMark, a longer list keeps its first MaxListItems entries, and
// the report warns of every cut (Report.Bound). A cut is not a refusal: the finding is still
// worth importing, and the bytes past the bound (a megabyte of "evidence") are not.
const (
	// MaxShortText bounds names, identifiers, versions, URLs, paths, hosts, titles, vectors and
	// every other one-line field, each entry of a list (CVEs, references, CPEs, IPs, …), and each
	// warning.
	MaxShortText = 4 << 10
	// MaxText bounds Finding.Description, Finding.Remediation and Suppression.Reason.
	MaxText = 1 << 20
	// MaxEvidenceText bounds Finding.Evidence (plugin output, a matched secret's context, …).
	MaxEvidenceText = 64 << 10
	// MaxListItems bounds every list of strings of an asset or a finding.
	MaxListItems = 4096
	// TruncMark ends a string that was cut.
	TruncMark = " …[truncated]"
)

// Truncate cuts s to at most max bytes on a rune boundary, marking the cut with TruncMark.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return Cut(s, max)
}

// Cut always marks s as cut, keeping at most max bytes in all.
func Cut(s string, max int) string {
	n := max - len(TruncMark)
	if n > len(s) {
		n = len(s)
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	s = s[:n]
	for len(s) > 0 { // drop a rune split by an earlier cut
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-size]
	}
	return s + TruncMark
}

// Bound applies the bounds above to every string and list of strings the report holds, adding
// one warning per field that had to be cut ("finding description: 2 cut to 1048576 bytes"). It
// reports how many strings and lists it cut. Parsers call it last, after the fingerprints are
// computed from the report's own values, so a cut never changes a fingerprint.
func (r *Report) Bound() int {
	b := bounder{cuts: map[string]int{}}
	b.str(&r.ScannerName, MaxShortText, "scanner name")
	b.str(&r.ScannerVersion, MaxShortText, "scanner version")
	if r.Target != nil {
		b.str(&r.Target.Name, MaxShortText, "target name")
		b.str(&r.Target.Hint, MaxShortText, "target hint")
	}
	for i := range r.Assets {
		b.asset(&r.Assets[i])
	}
	for i := range r.Findings {
		b.finding(&r.Findings[i])
	}
	for i := range r.Warnings {
		b.str(&r.Warnings[i], MaxShortText, "warning")
	}
	total := 0
	for _, field := range b.order {
		n := b.cuts[field]
		total += n
		limit := "bytes"
		if b.lists[field] {
			limit = "entries"
		}
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: %d cut to %d %s", field, n, b.limits[field], limit))
	}
	return total
}

// bounder cuts and counts, per field, in the order the fields were first cut.
type bounder struct {
	cuts   map[string]int
	limits map[string]int
	lists  map[string]bool
	order  []string
}

func (b *bounder) count(field string, limit int, list bool) {
	if b.cuts[field] == 0 {
		b.order = append(b.order, field)
		if b.limits == nil {
			b.limits, b.lists = map[string]int{}, map[string]bool{}
		}
		b.limits[field], b.lists[field] = limit, list
	}
	b.cuts[field]++
}

func (b *bounder) str(s *string, max int, field string) {
	if len(*s) > max {
		*s = Cut(*s, max)
		b.count(field, max, false)
	}
}

func (b *bounder) list(l *[]string, field string) {
	if len(*l) > MaxListItems {
		*l = slices.Clip((*l)[:MaxListItems])
		b.count(field, MaxListItems, true)
	}
	for i := range *l {
		b.str(&(*l)[i], MaxShortText, field+" entry")
	}
}

func (b *bounder) asset(a *Asset) {
	for _, f := range []struct {
		s    *string
		name string
	}{
		{&a.Key, "asset key"}, {&a.Name, "asset name"}, {&a.OS, "asset os"}, {&a.ImageName, "asset image name"},
		{&a.ImageDigest, "asset image digest"}, {&a.PURL, "asset purl"}, {&a.RepoURL, "asset repository url"},
		{&a.BaseURL, "asset base url"}, {&a.CloudID, "asset cloud id"},
	} {
		b.str(f.s, MaxShortText, f.name)
	}
	b.list(&a.IPs, "asset ips")
	b.list(&a.Hostnames, "asset hostnames")
	b.list(&a.MACs, "asset macs")
	for i := range a.Services {
		s := &a.Services[i]
		for _, f := range []*string{&s.Protocol, &s.State, &s.Name, &s.Product, &s.Version} {
			b.str(f, MaxShortText, "service")
		}
		b.list(&s.CPEs, "service cpes")
	}
}

func (b *bounder) finding(f *Finding) {
	for _, s := range []struct {
		s    *string
		name string
	}{
		{&f.AssetKey, "finding asset key"}, {&f.Fingerprint, "finding fingerprint"}, {&f.Title, "finding title"},
		{&f.ScannerSeverity, "finding scanner severity"}, {&f.RuleID, "finding rule id"},
		{&f.VEXState, "finding vex state"}, {&f.VEXJustification, "finding vex justification"},
	} {
		b.str(s.s, MaxShortText, s.name)
	}
	b.str(&f.Description, MaxText, "finding description")
	b.str(&f.Remediation, MaxText, "finding remediation")
	b.str(&f.Evidence, MaxEvidenceText, "finding evidence")
	b.list(&f.CVEs, "finding cves")
	b.list(&f.GHSAs, "finding ghsas")
	b.list(&f.CWEs, "finding cwes")
	b.list(&f.References, "finding references")
	for i := range f.CVSS {
		c := &f.CVSS[i]
		for _, s := range []*string{&c.Version, &c.Vector, &c.Source} {
			b.str(s, MaxShortText, "finding cvss")
		}
	}
	if c := f.Component; c != nil {
		for _, s := range []*string{&c.PURL, &c.Name, &c.Version, &c.FixedVersion, &c.Type, &c.Path} {
			b.str(s, MaxShortText, "finding component")
		}
	}
	b.location(&f.Location)
	for i := range f.Locations {
		b.location(&f.Locations[i])
	}
	if s := f.Suppressed; s != nil {
		b.str(&s.Reason, MaxText, "finding suppression reason")
		b.str(&s.Source, MaxShortText, "finding suppression source")
	}
}

func (b *bounder) location(l *Location) {
	for _, s := range []*string{&l.Host, &l.Protocol, &l.URL, &l.Method, &l.Param, &l.File, &l.Image} {
		b.str(s, MaxShortText, "finding location")
	}
}

// Bounded is how a parser returns: it applies Bound to the report, if there is one.
func Bounded(rep *Report, err error) (*Report, error) {
	if rep != nil {
		rep.Bound()
	}
	return rep, err
}
