package nessus

// Helpers shared in spirit by the nessus, openvas, zap and cyclonedx parsers. Each package keeps its
// own copy because the parsers may not depend on one another and the importers package (model.go)
// is not theirs to extend; keep the copies in step.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/socplatform/soc/commands/scans/importers"
)

// Limits applied to every report. A report that exceeds maxDepth or maxTokenBytes is refused with a
// *importers.ParseError; text longer than the field limits is kept cut, with truncMark appended.
const (
	maxDepth      = 256      // deepest element / array / object nesting accepted
	maxTokenBytes = 16 << 20 // largest single token (XML text run or tag, JSON value) accepted
	maxField      = 1 << 20  // description, solution, … are cut to this many bytes
	maxEvidence   = 64 << 10 // evidence (plugin output, ZAP evidence, …) is cut to this many bytes
	maxShort      = 4 << 10  // titles, identifiers, URLs, names
	maxList       = 4096     // entries kept in one list (CVEs, references, …) of a finding
	truncMark     = " …[truncated]"
)

// limitError is raised by guardReader; it carries the exact byte offset of the violation.
type limitError struct {
	off int64
	msg string
}

func (e *limitError) Error() string { return fmt.Sprintf("byte %d: %s", e.off, e.msg) }

// guardReader sits between the caller's reader and the decoder. It counts bytes, and refuses
//   - (XML) a run of more than maxRun bytes without a '<': a text node or tag too large to buffer;
//   - (JSON) more than maxSinceMark bytes read since the decoder last asked for a token/value;
//   - (JSON) invalid UTF-8 (encoding/json would silently replace it with U+FFFD).
type guardReader struct {
	r            io.Reader
	off          int64
	maxRun       int64
	run          int64
	maxSinceMark int64
	mark         int64
	checkUTF8    bool
	carry        [utf8.UTFMax]byte
	ncarry       int
	err          error
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if len(p) > 64<<10 { // small reads keep the per-value accounting tight
		p = p[:64<<10]
	}
	n, err := g.r.Read(p)
	if n > 0 {
		if lerr := g.check(p[:n]); lerr != nil {
			g.err = lerr
			return 0, lerr
		}
		g.off += int64(n)
	}
	if err == io.EOF && g.ncarry > 0 {
		g.err = &limitError{g.off - int64(g.ncarry), "input ends inside a UTF-8 sequence"}
		return n, g.err
	}
	return n, err
}

func (g *guardReader) check(b []byte) error {
	if g.maxRun > 0 {
		first := bytes.IndexByte(b, '<')
		if first < 0 {
			first = len(b)
		}
		if g.run+int64(first) > g.maxRun {
			return &limitError{g.off + g.maxRun - g.run, fmt.Sprintf("more than %d bytes of text or markup without a '<' (a single token is limited)", g.maxRun)}
		}
		if last := bytes.LastIndexByte(b, '<'); last >= 0 {
			g.run = int64(len(b) - 1 - last)
		} else {
			g.run += int64(len(b))
		}
	}
	if g.maxSinceMark > 0 && g.off+int64(len(b))-g.mark > g.maxSinceMark {
		return &limitError{g.mark + g.maxSinceMark, fmt.Sprintf("a single value is larger than %d bytes", g.maxSinceMark)}
	}
	if g.checkUTF8 {
		return g.validUTF8(b)
	}
	return nil
}

// validUTF8 validates b, carrying an incomplete trailing sequence over to the next read.
func (g *guardReader) validUTF8(b []byte) error {
	i := 0
	if g.ncarry > 0 {
		for i < len(b) && g.ncarry < utf8.UTFMax && !utf8.FullRune(g.carry[:g.ncarry]) {
			g.carry[g.ncarry] = b[i]
			g.ncarry++
			i++
		}
		if !utf8.FullRune(g.carry[:g.ncarry]) {
			return nil
		}
		r, size := utf8.DecodeRune(g.carry[:g.ncarry])
		if r == utf8.RuneError && size <= 1 {
			return &limitError{g.off - int64(g.ncarry-i), "invalid UTF-8"}
		}
		g.ncarry = 0
	}
	rest := b[i:]
	end := len(rest)
	for k := len(rest) - 1; k >= 0 && k >= len(rest)-utf8.UTFMax; k-- {
		if utf8.RuneStart(rest[k]) {
			if !utf8.FullRune(rest[k:]) {
				end = k
			}
			break
		}
	}
	if !utf8.Valid(rest[:end]) {
		for j := 0; j < end; {
			r, size := utf8.DecodeRune(rest[j:end])
			if r == utf8.RuneError && size <= 1 {
				return &limitError{g.off + int64(i+j), "invalid UTF-8"}
			}
			j += size
		}
	}
	g.ncarry = copy(g.carry[:], rest[end:])
	return nil
}

// skipBOM returns a buffered reader positioned after a UTF-8 byte-order mark, if any.
func skipBOM(r io.Reader) *bufio.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		_, _ = br.Discard(3)
	}
	return br
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF}) }

// truncate cuts s to at most max bytes on a rune boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return cut(s, max)
}

// cut always marks s as cut, keeping at most max bytes in all.
func cut(s string, max int) string {
	n := max - len(truncMark)
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
	return s + truncMark
}

// canonical joins identity fields with '|', escaping '\' and '|' inside fields so that distinct
// field lists never give the same string.
func canonical(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('|')
		}
		for j := 0; j < len(p); j++ {
			if p[j] == '|' || p[j] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(p[j])
		}
	}
	return b.String()
}

// fingerprint is the lower-case hex SHA-256 of canonical(parts...).
func fingerprint(parts ...string) string {
	sum := sha256.Sum256([]byte(canonical(parts...)))
	return hex.EncodeToString(sum[:])
}

// addUnique appends the non-empty values not yet in list, keeping at most maxList entries.
func addUnique(list []string, values ...string) []string {
	for _, v := range values {
		if v == "" || len(list) >= maxList {
			continue
		}
		dup := false
		for _, have := range list {
			if have == v {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, v)
		}
	}
	return list
}

func addCVSS(list []importers.CVSS, c importers.CVSS) []importers.CVSS {
	if c.Vector == "" && c.Score == nil {
		return list
	}
	for _, have := range list {
		if have.Version == c.Version && have.Vector == c.Vector && have.Source == c.Source {
			return list
		}
	}
	if len(list) >= maxList {
		return list
	}
	return append(list, c)
}

func sevRank(s importers.Severity) int {
	switch s {
	case importers.Critical:
		return 4
	case importers.High:
		return 3
	case importers.Medium:
		return 2
	case importers.Low:
		return 1
	}
	return 0
}

// findingSet keeps findings in report order and merges a finding whose fingerprint is already
// present into the first one, so that fingerprints are unique within a Report.
type findingSet struct {
	list []importers.Finding
	idx  map[string]int
}

func (s *findingSet) add(f importers.Finding) {
	if s.idx == nil {
		s.idx = make(map[string]int)
	}
	if i, ok := s.idx[f.Fingerprint]; ok {
		merge(&s.list[i], &f)
		return
	}
	s.idx[f.Fingerprint] = len(s.list)
	s.list = append(s.list, f)
}

func (s *findingSet) findings() []importers.Finding {
	if s.list == nil {
		return []importers.Finding{}
	}
	return s.list
}

// merge folds src into dst: the higher severity wins, lists are unioned, evidence is appended
// (separated by a line of dashes, bounded) and empty text fields are filled.
func merge(dst, src *importers.Finding) {
	if sevRank(src.Severity) > sevRank(dst.Severity) {
		dst.Severity, dst.ScannerSeverity = src.Severity, src.ScannerSeverity
	}
	for _, c := range src.CVSS {
		dst.CVSS = addCVSS(dst.CVSS, c)
	}
	dst.CVEs = addUnique(dst.CVEs, src.CVEs...)
	dst.GHSAs = addUnique(dst.GHSAs, src.GHSAs...)
	dst.CWEs = addUnique(dst.CWEs, src.CWEs...)
	dst.References = addUnique(dst.References, src.References...)
	if src.Evidence != "" && !strings.Contains(dst.Evidence, src.Evidence) && !strings.HasSuffix(dst.Evidence, truncMark) {
		if dst.Evidence == "" {
			dst.Evidence = src.Evidence
		} else {
			dst.Evidence = truncate(dst.Evidence+"\n----\n"+src.Evidence, maxEvidence)
		}
	}
	if dst.Description == "" {
		dst.Description = src.Description
	}
	if dst.Remediation == "" {
		dst.Remediation = src.Remediation
	}
	if dst.VEXState == "" {
		dst.VEXState, dst.VEXJustification = src.VEXState, src.VEXJustification
	}
}
