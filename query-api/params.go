package queryapi

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/query-api/openapi"
	"github.com/socplatform/soc/schemas/problem"
)

// Bounds on what a client controls.
const (
	maxQueryBytes = 8192 // the raw query string
	maxValueLen   = 256  // one filter value
	maxQLen       = 200  // the q substring filter
	maxListValues = 32   // values of one list filter (repeated and comma-separated together)
	maxCursorLen  = 2048
	maxWaitParam  = 3600 // seconds; larger waits are refused, waits above MaxWait are capped
)

// params parses one request's query string. It collects every failure so that one 400 names
// all the bad parameters; the handler asks for each parameter once and checks err() at the end.
type params struct {
	r    *http.Request
	q    url.Values
	errs []problem.InvalidParam
	// volatile marks an answer that moves with the clock rather than with the read models: the
	// response cache leaves it alone.
	volatile bool
}

// newParams parses r's query string and refuses any parameter that the route's operation in
// the OpenAPI document does not declare: a misspelt filter must not silently widen a query.
func newParams(r *http.Request, pattern string) *params {
	p := &params{r: r, q: url.Values{}}
	if len(r.URL.RawQuery) > maxQueryBytes {
		p.add("query", fmt.Sprintf("the query string is over %d bytes", maxQueryBytes))
		return p
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		p.add("query", "the query string is malformed: "+err.Error())
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
		p.add(name, "unknown parameter; this endpoint takes: "+strings.Join(allowed, ", "))
		delete(p.q, name)
	}
	return p
}

func (p *params) add(name, reason string) {
	p.errs = append(p.errs, problem.InvalidParam{Name: name, Reason: reason})
}

func (p *params) failed(name string) bool {
	for _, e := range p.errs {
		if e.Name == name {
			return true
		}
	}
	return false
}

// err is nil or a *problem.ParamError naming every failing parameter.
func (p *params) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return &problem.ParamError{Params: p.errs}
}

// one returns a single-valued parameter: given twice or empty is an error.
func (p *params) one(name string) (string, bool) {
	vs, ok := p.q[name]
	if !ok {
		return "", false
	}
	switch {
	case len(vs) > 1:
		p.add(name, "given more than once")
		return "", false
	case vs[0] == "":
		p.add(name, "must not be empty")
		return "", false
	case len(vs[0]) > maxValueLen && name != "cursor":
		p.add(name, fmt.Sprintf("longer than %d bytes", maxValueLen))
		return "", false
	}
	return vs[0], true
}

// text returns a free-text value (printable, at most max bytes).
func (p *params) text(name string, max int) string {
	v, ok := p.one(name)
	if !ok {
		return ""
	}
	if len(v) > max {
		p.add(name, fmt.Sprintf("longer than %d bytes", max))
		return ""
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f {
			p.add(name, "holds a control character")
			return ""
		}
	}
	return v
}

// match returns a value that must match re (desc says what it must look like).
func (p *params) match(name string, re *regexp.Regexp, desc string) string {
	v, ok := p.one(name)
	if !ok {
		return ""
	}
	if !re.MatchString(v) {
		p.add(name, "must be "+desc)
		return ""
	}
	return v
}

// enum returns a value that must be one of allowed.
func (p *params) enum(name string, allowed []string) string {
	v, ok := p.one(name)
	if !ok {
		return ""
	}
	if !slices.Contains(allowed, v) {
		p.add(name, fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", ")))
		return ""
	}
	return v
}

// list returns a list filter given as repeated parameters, comma-separated values or both;
// values are deduplicated and sorted (so equal filters hash alike).
func (p *params) list(name string, check func(string) string) []string {
	vs, ok := p.q[name]
	if !ok {
		return nil
	}
	var out []string
	for _, v := range vs {
		for _, item := range strings.Split(v, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				p.add(name, "holds an empty value")
				return nil
			}
			if len(item) > maxValueLen {
				p.add(name, fmt.Sprintf("a value is longer than %d bytes", maxValueLen))
				return nil
			}
			if reason := check(item); reason != "" {
				p.add(name, reason)
				return nil
			}
			out = append(out, item)
			if len(out) > maxListValues {
				p.add(name, fmt.Sprintf("more than %d values", maxListValues))
				return nil
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// enumList is a list whose values must be in allowed.
func (p *params) enumList(name string, allowed []string) []string {
	return p.list(name, func(v string) string {
		if !slices.Contains(allowed, v) {
			return fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", "))
		}
		return ""
	})
}

// boolean returns true/false, or nil when absent.
func (p *params) boolean(name string) *bool {
	v, ok := p.one(name)
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
	p.add(name, "must be true or false")
	return nil
}

// float returns a number in [lo, hi], or nil when absent.
func (p *params) float(name string, lo, hi float64) *float64 {
	v, ok := p.one(name)
	if !ok {
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f || f < lo || f > hi {
		p.add(name, fmt.Sprintf("must be a number from %g to %g", lo, hi))
		return nil
	}
	return &f
}

// integer returns an integer in [lo, hi]; ok is false when absent or invalid.
func (p *params) integer(name string, lo, hi int64) (int64, bool) {
	v, ok := p.one(name)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		p.add(name, fmt.Sprintf("must be an integer from %d to %d", lo, hi))
		return 0, false
	}
	return n, true
}

// timestamp returns an RFC 3339 time in UTC, or the zero time when absent.
func (p *params) timestamp(name string) time.Time {
	v, ok := p.one(name)
	if !ok {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.add(name, "must be an RFC 3339 date-time such as 2025-01-31T12:00:00Z")
		return time.Time{}
	}
	return t.UTC()
}

// timeRange checks that from is before to when both are set.
func (p *params) timeRange(fromName string, from time.Time, toName string, to time.Time) {
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		p.add(fromName, fmt.Sprintf("must be before %s", toName))
	}
}

// limit returns the page size: def when absent, 1..max otherwise.
func (p *params) limit(def, max int) int {
	n, ok := p.integer("limit", 1, int64(max))
	if !ok {
		return def
	}
	return int(n)
}
