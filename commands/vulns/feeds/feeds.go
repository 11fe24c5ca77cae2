// Package feeds reads the public CVE catalogue feeds into normalised records:
//
//   - NVD CVE API 2.0 JSON (ParseNVD): a full API response page, a `{"cve": {...}}` wrapper or a
//     bare CVE object;
//   - the CISA Known Exploited Vulnerabilities catalogue JSON (ParseKEV);
//   - the FIRST EPSS daily CSV (ParseEPSS).
//
// Every parser streams: records are handed one at a time to a callback, so a multi-gigabyte NVD
// feed is read in bounded memory. JSON feeds are walked with encoding/json Decoder tokens and each
// element of the `vulnerabilities` array is decoded on its own. Inputs compressed with gzip are
// detected by their magic bytes and decompressed transparently; a leading UTF-8 byte-order mark is
// skipped. Offsets, lines and columns always refer to the decompressed bytes.
//
// Parsers only translate: they do not touch the event store and do not compute CVSS scores.
//
// # Bounds
//
// Options bounds every input: MaxRecordBytes (one array element, one top-level member, one JSON
// token), MaxDepth (JSON nesting, counted from the document root, which is depth 1),
// MaxStringBytes (one JSON string, raw bytes between the quotes) and MaxLineBytes (one CSV line).
// The bounds are enforced on the bytes as they are read, before encoding/json buffers them, so a
// hostile input fails at the first byte past a bound with a *ParseError naming its position.
// Invalid UTF-8 inside a JSON string is rejected (encoding/json would silently replace it).
//
// # Errors
//
// Every failure of the input is a *ParseError naming the feed, the byte offset, line and column,
// the record index and the field; it wraps one of the sentinel errors (ErrSyntax, ErrTruncated,
// ErrTooDeep, ErrTooLarge, ErrInvalidUTF8, ErrInvalidValue, ErrUnknownFormat) or the reader's own
// error, so errors.Is works. An error returned by the callback stops the parse and is returned
// unchanged; a cancelled context stops it with ctx.Err().
//
// With Options.SkipInvalid, a record that is well-formed JSON/CSV but fails validation (a bad CVE
// id, an unparsable date, an out-of-range score, a wrong column count) is skipped and reported as a
// Warning instead of stopping the parse; structural errors (syntax, truncation, bounds) always
// stop it.
//
// # Normalisation
//
//   - CVE ids must match ^CVE-\d{4}-\d{4,19}$ (ValidCVEID) in every feed.
//   - NVD timestamps carry no zone and are read as UTC; KEV and EPSS dates are midnight UTC.
//   - CVE.Description is the first "en" (or "en-*") description.
//   - CVE.CVSS lists v4.0, v3.1, v3.0 then v2.0 ratings, each with its source and type
//     (Primary: NVD's own; Secondary: a CNA's). A rating needs a known version, a vector of that
//     version and a base score in 0..10. Severity is NVD's text as given; for v2 it is read
//     beside cvssData, where NVD keeps it. Other metric keys are ignored.
//   - CVE.CWEs holds only "CWE-<n>" ids, deduplicated across sources. NVD's placeholders
//     "NVD-CWE-Other" and "NVD-CWE-noinfo" (and any other non-CWE value) go to
//     CVE.OtherWeaknesses instead of being dropped: they mean "NVD analysed this and found no
//     usable CWE", which differs from no weakness data at all, and callers can count them.
//   - CVE.CPEs are the distinct criteria of vulnerable cpeMatch entries (children nodes
//     included); CVE.CPEMatches keeps every vulnerable entry with its version range, since
//     the same criteria usually appears once per range. Non-vulnerable entries (platform
//     context such as "running on") are not returned.
//   - CVE.References are distinct URLs; tags are dropped.
//   - CVE.KEV is set when NVD carries any cisa* member; cisaExploitAdd must then be a date.
//   - The KEV catalogue's "count" and an NVD page's "resultsPerPage" are not trusted: Stats.Records
//     is what was read and a difference is a WarnCountMismatch warning, never an error.
//   - Strings are kept as given (no trimming: the 2025.02.19 KEV catalogue has "SimpleHelp ").
package feeds

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"time"
)

// Feed names a catalogue feed.
type Feed string

// The feeds this package reads.
const (
	FeedNVD  Feed = "nvd"
	FeedKEV  Feed = "kev"
	FeedEPSS Feed = "epss"
)

// Default bounds.
const (
	DefaultMaxRecordBytes = 16 << 20 // the largest NVD records (huge CPE configurations) are a few MB
	DefaultMaxDepth       = 64
	DefaultMaxStringBytes = 1 << 20
	DefaultMaxLineBytes   = 4096
	DefaultMaxWarnings    = 100
	maxDecoderDepth       = 10000 // encoding/json's own limit; MaxDepth is clamped below it
	maxTopLevelMembers    = 1024
)

// Options bounds and tunes a parse. The zero value means the defaults; the package-level
// ParseNVD, ParseKEV and ParseEPSS use Options{}.
type Options struct {
	// MaxRecordBytes bounds one JSON value read at a time: an element of `vulnerabilities`,
	// any other top-level member (their sum, for a bare CVE object), one token. Default 16 MiB.
	MaxRecordBytes int64
	// MaxDepth bounds JSON nesting; the root object is depth 1. Default 64, at most 10000.
	MaxDepth int
	// MaxStringBytes bounds one JSON string (raw bytes between the quotes). Default 1 MiB.
	MaxStringBytes int
	// MaxLineBytes bounds one CSV line including its line break. Default 4096.
	MaxLineBytes int
	// SkipInvalid skips records that fail validation and reports them as warnings instead of
	// stopping at the first one.
	SkipInvalid bool
	// MaxWarnings bounds Stats.Warnings; further warnings are only counted in
	// Stats.WarningsDropped. Default 100.
	MaxWarnings int
}

func (o Options) withDefaults() Options {
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxDepth > maxDecoderDepth {
		o.MaxDepth = maxDecoderDepth
	}
	if o.MaxStringBytes <= 0 {
		o.MaxStringBytes = DefaultMaxStringBytes
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxWarnings <= 0 {
		o.MaxWarnings = DefaultMaxWarnings
	}
	return o
}

// Stats summarises a parse. It is returned with whatever was read so far when the parse fails.
type Stats struct {
	Feed Feed `json:"feed"`
	// Records is the number of records handed to the callback that it accepted (returned nil).
	Records int `json:"records"`
	// Skipped is the number of invalid records skipped (Options.SkipInvalid).
	Skipped int `json:"skipped,omitempty"`
	// Bytes is the number of (decompressed) input bytes read.
	Bytes int64 `json:"bytes"`
	// Warnings are problems that did not stop the parse: a declared count that does not match
	// the records, a skipped record, an unexpected value kept as given.
	Warnings        []Warning `json:"warnings,omitempty"`
	WarningsDropped int       `json:"warnings_dropped,omitempty"`

	NVD  *NVDHeader  `json:"nvd,omitempty"`  // NVD: the API page header; nil for a single CVE object
	KEV  *KEVCatalog `json:"kev,omitempty"`  // KEV: the catalogue's own metadata
	EPSS *EPSSMeta   `json:"epss,omitempty"` // EPSS: the comment line and header
}

// Warning codes.
const (
	WarnCountMismatch = "count_mismatch" // a declared count (KEV count, NVD resultsPerPage) differs from the records read
	WarnSkippedRecord = "skipped_record" // an invalid record was skipped (Options.SkipInvalid); Err says why
	WarnMissingField  = "missing_field"  // a field the feed's schema requires is absent but the parse can go on
	WarnUnusualValue  = "unusual_value"  // a value outside its documented set, kept as given
)

// Warning is a problem that did not stop the parse.
type Warning struct {
	Code   string      `json:"code"`
	Msg    string      `json:"msg"`
	Record int         `json:"record"` // 0-based record index, -1 when not about one record
	Err    *ParseError `json:"err,omitempty"`
}

func (s *Stats) warn(o Options, w Warning) {
	if len(s.Warnings) >= o.MaxWarnings {
		s.WarningsDropped++
		return
	}
	s.Warnings = append(s.Warnings, w)
}

// skip records an invalid record skipped under Options.SkipInvalid.
func (s *Stats) skip(o Options, pe *ParseError) {
	s.Skipped++
	s.warn(o, Warning{Code: WarnSkippedRecord, Msg: pe.Error(), Record: pe.Record, Err: pe})
}

// ValidCVEID reports whether id is a CVE identifier: ^CVE-\d{4}-\d{4,19}$ (ASCII digits). The
// sequence part is capped at 19 digits, as in CISA's KEV schema, so an id is bounded.
func ValidCVEID(id string) bool {
	if len(id) < len("CVE-0000-0000") || len(id) > len("CVE-0000-")+19 || id[:4] != "CVE-" || id[8] != '-' {
		return false
	}
	for i := 4; i < len(id); i++ {
		if i == 8 {
			continue
		}
		if c := id[i]; c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validCWEID reports whether s is "CWE-" followed by 1 to 10 ASCII digits.
func validCWEID(s string) bool {
	if len(s) < 5 || len(s) > 14 || s[:4] != "CWE-" {
		return false
	}
	for i := 4; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// parseDate reads a calendar date "2006-01-02" as midnight UTC.
func parseDate(s string) (time.Time, error) {
	return time.Parse(time.DateOnly, s)
}

// parseTimestamp reads the timestamps the feeds use: NVD's zone-less
// "2006-01-02T15:04:05.000" (UTC), RFC 3339 with a zone or "Z", EPSS's "+0000" offsets, or a bare
// date.
func parseTimestamp(s string) (time.Time, error) {
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999",
		time.RFC3339Nano,
		"2006-01-02T15:04:05.999999999-0700",
		time.DateOnly,
	} {
		t, err := time.Parse(layout, s)
		if err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a timestamp: %q", truncate(s, 64))
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	utf8BOM   = []byte{0xEF, 0xBB, 0xBF}
)

// openInput wraps r: gzip is decompressed when the input starts with its magic bytes and a
// UTF-8 byte-order mark is skipped. origin is the offset of the first returned byte in the
// (decompressed) stream: 3 when a BOM was skipped, else 0.
func openInput(r io.Reader) (src *bufio.Reader, origin int64, err error) {
	br := bufio.NewReaderSize(r, 4096)
	if head, _ := br.Peek(2); bytes.Equal(head, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, 0, err
		}
		br = bufio.NewReaderSize(zr, 4096)
	}
	if head, _ := br.Peek(3); bytes.Equal(head, utf8BOM) {
		_, _ = br.Discard(3)
		origin = 3
	}
	return br, origin, nil
}
