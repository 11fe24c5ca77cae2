package querykit

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/schemas/problem"
)

// Bounds on what a client controls.
const (
	MaxValueLen   = 256  // one filter value
	MaxQLen       = 200  // the q substring filter
	maxQueryBytes = 8192 // the raw query string
	maxListValues = 32   // values of one list filter (repeated and comma-separated together)
	maxCursorLen  = 2048
	maxWaitParam  = 3600 // seconds; larger waits are refused, waits above MaxWait are capped
)

// Params parses one request's query string. It collects every failure so that one 400 names
// all the bad parameters; the handler asks for each parameter once and checks Err at the end.
type Params struct {
	r    *http.Request
	q    url.Values
	errs []problem.InvalidParam
	// Volatile marks an answer that moves with the clock rather than with the read models: the
	// response cache leaves it alone.
	Volatile bool
}

// NewParams parses r's query string and refuses any parameter that the route's operation in
// the OpenAPI document does not declare: a misspelt filter must not silently widen a query.
func NewParams(r *http.Request, pattern string) *Params {
	p := &Params{r: r, q: url.Values{}}
	if len(r.URL.RawQuery) > maxQueryBytes {
		p.Add("query", fmt.Sprintf("the query string is over %d bytes", maxQueryBytes))
		return p
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		p.Add("query", "the query string is malformed: "+err.Error())
		return p
	}
	p.q = q
	method, path, _ := strings.Cut(pattern, " ")
	allowed := openapi.QueryParams(method, path)
	var unknown []string
	for name := range q {
		if !slices.Contains(allowed, name) {
			unknown = append(unknown, name)
		}
	}
	slices.Sort(unknown)
	for _, name := range unknown {
		p.Add(name, "unknown parameter; this endpoint takes: "+strings.Join(allowed, ", "))
		delete(p.q, name)
	}
	return p
}

// Add records that parameter name failed, and why.
func (p *Params) Add(name, reason string) {
	p.errs = append(p.errs, problem.InvalidParam{Name: name, Reason: reason})
}

func (p *Params) failed(name string) bool {
	for _, e := range p.errs {
		if e.Name == name {
			return true
		}
	}
	return false
}

// Has reports whether the query string holds name (it may still be invalid).
func (p *Params) Has(name string) bool {
	_, ok := p.q[name]
	return ok
}

// Err is nil or a *problem.ParamError naming every failing parameter.
func (p *Params) Err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &problem.ParamError{Params: p.errs}
}

// One returns a single-valued parameter: given twice or empty is an error.
func (p *Params) One(name string) (string, bool) {
	vs, ok := p.q[name]
	if !ok {
		return "", false
	}
	switch {
	case len(vs) > 1:
		p.Add(name, "given more than once")
		return "", false
	case vs[0] == "":
		p.Add(name, "must not be empty")
		return "", false
	case len(vs[0]) > MaxValueLen && name != "cursor":
		p.Add(name, fmt.Sprintf("longer than %d bytes", MaxValueLen))
		return "", false
	}
	return vs[0], true
}

// Text returns a free-text value (printable, at most max bytes).
func (p *Params) Text(name string, max int) string {
	v, ok := p.One(name)
	if !ok {
		return ""
	}
	if len(v) > max {
		p.Add(name, fmt.Sprintf("longer than %d bytes", max))
		return ""
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			p.Add(name, "holds a control character")
			return ""
		}
	}
	return v
}

// Match returns a value that must match re (desc says what it must look like).
func (p *Params) Match(name string, re *regexp.Regexp, desc string) string {
	v, ok := p.One(name)
	if !ok {
		return ""
	}
	if !re.MatchString(v) {
		p.Add(name, "must be "+desc)
		return ""
	}
	return v
}

// Enum returns a value that must be one of allowed.
func (p *Params) Enum(name string, allowed []string) string {
	v, ok := p.One(name)
	if !ok {
		return ""
	}
	if !slices.Contains(allowed, v) {
		p.Add(name, fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", ")))
		return ""
	}
	return v
}

// List returns a list filter given as repeated parameters, comma-separated values or both;
// values are deduplicated and sorted (so equal filters hash alike).
func (p *Params) List(name string, check func(string) string) []string {
	vs, ok := p.q[name]
	if !ok {
		return nil
	}
	var out []string
	for _, v := range vs {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				p.Add(name, "holds an empty value")
				return nil
			}
			if len(item) > MaxValueLen {
				p.Add(name, fmt.Sprintf("a value is longer than %d bytes", MaxValueLen))
				return nil
			}
			if reason := check(item); reason != "" {
				p.Add(name, reason)
				return nil
			}
			out = append(out, item)
			if len(out) > maxListValues {
				p.Add(name, fmt.Sprintf("more than %d values", maxListValues))
				return nil
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// EnumList is a list whose values must be in allowed.
func (p *Params) EnumList(name string, allowed []string) []string {
	return p.List(name, func(v string) string {
		if !slices.Contains(allowed, v) {
			return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return ""
	})
}

// Boolean returns true/false, or nil when absent.
func (p *Params) Boolean(name string) *bool {
	v, ok := p.One(name)
	if !ok {
		return nil
	}
	switch v {
	case "true":
		t := true
		return &t
	case "false":
		f := false
		return &f
	}
	p.Add(name, "must be true or false")
	return nil
}

// Float returns a number in [lo, hi], or nil when absent.
func (p *Params) Float(name string, lo, hi float64) *float64 {
	v, ok := p.One(name)
	if !ok {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f || f < lo || f > hi {
		p.Add(name, fmt.Sprintf("must be a number from %g to %g", lo, hi))
		return nil
	}
	return &f
}

// Integer returns an integer in [lo, hi]; ok is false when absent or invalid.
func (p *Params) Integer(name string, lo, hi int64) (int64, bool) {
	v, ok := p.One(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		p.Add(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return 0, false
	}
	return n, true
}

// Timestamp returns an RFC 3339 time in UTC, or the zero time when absent.
func (p *Params) Timestamp(name string) time.Time {
	v, ok := p.One(name)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.Add(name, "must be an RFC 3339 date-time such as 2025-01-31T12:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// TimeRange checks that from is before to when both are set.
func (p *Params) TimeRange(fromName string, from time.Time, toName string, to time.Time) {
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		p.Add(fromName, fmt.Sprintf("must be before %s", toName))
	}
}

// Limit returns the page size: def when absent, 1..max otherwise.
func (p *Params) Limit(def, max int) int {
	n, ok := p.Integer("limit", 1, int64(max))
	if !ok {
		return def
	}
	return int(n)
}

// Patterns more than one context checks: a finding names the report format and the scan it came
// from, and the scans are listed and read by them.
var (
	ReportFormat = regexp.MustCompile(`^[a-z][a-z0-9-]{1,31}$`)
	ScanID       = regexp.MustCompile(`^[\x21-\x7e]{1,128}$`)
)

// What ReportFormat and ScanID values must look like, in a 400's reason.
const (
	ReportFormatWant = "a report format name (lowercase letters, digits and hyphens)"
	ScanIDWant       = "a scan id (1–128 visible ASCII characters)"
)

// StreamID checks a stream id parameter (and its "<context>-<aggregate>-" prefix when set).
func (p *Params) StreamID(name, v, prefix string) string {
	if !events.ValidStreamID(v) || !strings.HasPrefix(v, prefix) {
		want := "a stream id <context>-<aggregate>-<uuid>"
		if prefix != "" {
			want = "an id " + prefix + "<uuid>"
		}
		p.Add(name, "must be "+want)
		return ""
	}
	return v
}

// PathID checks the path segment name: ok accepts it, want says what it must be.
func (p *Params) PathID(name string, ok func(string) bool, want string) string {
	v := p.r.PathValue(name)
	if !ok(v) {
		p.Add(name, "must be "+want)
		return ""
	}
	return v
}

// IsStreamID reports whether v is a stream id with prefix ("assets-asset-").
func IsStreamID(v, prefix string) bool {
	return strings.HasPrefix(v, prefix) && events.ValidStreamID(v)
}
