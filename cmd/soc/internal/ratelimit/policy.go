package ratelimit

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
)

// Policy is the per-client budget of a gateway: one default, overridden per route class (an
// import uploads many files, an admin script many users) and per role.
//
// Resolve decides, for one request, which bucket it draws from and that bucket's limit:
//   - a class with its own entry in Classes has its own bucket (suffix "class:<name>"), so a
//     long import does not eat the budget of the same client's reads;
//   - every other request draws from the client's default bucket (suffix "default"), whose limit
//     is the highest of Default and the Roles entries of the client's roles: a role raises the
//     budget of the principals holding it, it never lowers another role's;
//   - 0 means unlimited: a class or role set to 0 is not limited, and Default 0 turns the whole
//     policy off (as --rate-limit=0 always has).
type Policy struct {
	Default int            // requests per minute; 0 turns limiting off
	Classes map[string]int // route class → requests per minute (own bucket); 0 = unlimited
	Roles   map[string]int // role → requests per minute on the default bucket; 0 = unlimited
}

// DefaultBucket names the bucket shared by every class without a limit of its own.
const DefaultBucket = "default"

// Resolve returns the limit of a request of class by a client holding roles, and the bucket it
// draws from ("default" or "class:<name>"); limited is false when the request is not limited.
func (p *Policy) Resolve(class string, roles []string) (lim Limit, bucket string, limited bool) {
	if p == nil || p.Default <= 0 {
		return Limit{}, "", false
	}
	if n, ok := p.Classes[class]; ok && class != "" {
		if n == 0 {
			return Limit{}, "", false
		}
		return PerMinute(n), "class:" + class, true
	}
	best := p.Default
	for _, role := range roles {
		n, ok := p.Roles[role]
		if !ok {
			continue
		}
		if n == 0 {
			return Limit{}, "", false
		}
		best = max(best, n)
	}
	return PerMinute(best), DefaultBucket, true
}

// ParseLimits parses "name=n,name=n" (requests per minute each, 0 = unlimited), the syntax of
// --rate-limit-classes and --rate-limit-roles. An empty string is no entry.
func ParseLimits(s string) (map[string]int, error) {
	pairs, err := envflag.SplitPairs(s)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, p := range pairs {
		name, item := p.Name, p.Name+"="+p.Value
		if !validName(name) {
			return nil, fmt.Errorf("%q: the name may hold letters, digits, '-' and '_' only", item)
		}
		n, err := strconv.Atoi(p.Value)
		if err != nil || n < 0 || n > MaxRequests {
			return nil, fmt.Errorf("%q: requests per minute must be between 0 (unlimited) and %d", item, MaxRequests)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%q is given twice", name)
		}
		out[name] = n
	}
	return out, nil
}

// FormatLimits is the inverse of ParseLimits, sorted by name.
func FormatLimits(m map[string]int) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, ",")
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
