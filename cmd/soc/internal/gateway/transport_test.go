package gateway

import (
	"net/http"
	"testing"
)

// The proxy's default transport keeps as many idle connections to an upstream as may be in
// flight to it: with http.DefaultTransport's 2, every request beyond two concurrent ones
// dialled a new connection and closed it after (BenchmarkGateway/no-cache's CPU profile spent
// 2.7% in dialConn; with its own transport, none). A transport the caller gives is
// used as it is.
func TestProxyKeepsConnectionsToUpstreams(t *testing.T) {
	p := NewProxy(Config{MaxConcurrent: 32})
	tr, ok := p.rp.Transport.(*http.Transport)
	if !ok || tr == http.DefaultTransport || tr.MaxIdleConnsPerHost != 32 {
		t.Fatalf("default transport %T %+v, want an own *http.Transport keeping 32 idle connections per host", p.rp.Transport, tr)
	}
	if tr.IdleConnTimeout == 0 {
		t.Error("the default transport lost http.DefaultTransport's other settings")
	}
	given := &http.Transport{}
	if p := NewProxy(Config{Transport: given}); p.rp.Transport != given {
		t.Error("a given transport was replaced")
	}
}
