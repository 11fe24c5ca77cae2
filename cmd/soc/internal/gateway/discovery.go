// Package gateway is the API gateway's HTTP machinery, independent of how upstreams are found
// and how principals are verified: a reverse Proxy that picks an instance of the route's target
// (least outstanding requests, a circuit breaker per instance, a bulkhead per target, timeouts
// per route class, bounded retries for idempotent requests), a GET response Cache invalidated by
// the read models' position, and the request id, access log and metrics middleware.
package gateway

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
)

// Instance is one upstream process serving a target.
type Instance struct {
	ID  string
	URL *url.URL
}

// Discovery names the healthy instances of a target ("commands", "query", "notifier").
type Discovery interface {
	Instances(target string) []Instance
}

// Static is a fixed Discovery: target → instances, as --upstreams lists them.
type Static map[string][]Instance

// Instances implements Discovery.
func (s Static) Instances(target string) []Instance { return s[target] }

// ParseStatic parses "target=url;url,target=url": targets separated by commas, the instances of
// one target by semicolons (a URL may not hold either). Each instance's ID is its URL's host.
func ParseStatic(s string) (Static, error) {
	pairs, err := envflag.SplitPairs(s)
	if err != nil {
		return nil, fmt.Errorf("%w: want target=http://host:port[;http://host:port…]", err)
	}
	out := Static{}
	for _, p := range pairs {
		target, urls := p.Name, p.Value
		if _, dup := out[target]; dup {
			return nil, fmt.Errorf("target %q is given twice", target)
		}
		for raw := range strings.SplitSeq(urls, ";") {
			raw = strings.TrimSpace(raw)
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
				return nil, fmt.Errorf("%s: %q is not an http(s)://host:port URL", target, raw)
			}
			out[target] = append(out[target], Instance{ID: target + "@" + u.Host, URL: u})
		}
	}
	return out, nil
}
