package ratelimit

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPolicyResolve(t *testing.T) {
	p := &Policy{Default: 100, Classes: map[string]int{"import": 600, "probe": 0}, Roles: map[string]int{"admin": 1000, "ops": 300, "robot": 0}}
	for _, tc := range []struct {
		class   string
		roles   []string
		limited bool
		n       int
		bucket  string
	}{
		{"read", nil, true, 100, "default"},
		{"read", []string{"analyst"}, true, 100, "default"},
		{"read", []string{"ops"}, true, 300, "default"},
		{"read", []string{"ops", "admin"}, true, 1000, "default"}, // the highest applicable wins
		{"write", []string{"admin", "ops"}, true, 1000, "default"},
		{"import", []string{"admin"}, true, 600, "class:import"}, // own bucket, roles do not apply
		{"probe", nil, false, 0, ""},
		{"read", []string{"robot"}, false, 0, ""},
	} {
		lim, bucket, limited := p.Resolve(tc.class, tc.roles)
		if limited != tc.limited || bucket != tc.bucket || (limited && lim != PerMinute(tc.n)) {
			t.Errorf("%s %v: %+v %q %v, want %d/min in %q (limited %v)", tc.class, tc.roles, lim, bucket, limited, tc.n, tc.bucket, tc.limited)
		}
	}
	if _, _, limited := (&Policy{Default: 0, Classes: map[string]int{"import": 5}}).Resolve("import", nil); limited {
		t.Error("Default 0 must turn the policy off")
	}
	var nilPolicy *Policy
	if _, _, limited := nilPolicy.Resolve("read", nil); limited {
		t.Error("nil policy limits")
	}
}

func TestParseLimits(t *testing.T) {
	m, err := ParseLimits(" import=600, admin=1200 ,probe=0")
	if err != nil || len(m) != 3 || m["import"] != 600 || m["admin"] != 1200 || m["probe"] != 0 {
		t.Fatalf("%v %v", m, err)
	}
	if got := FormatLimits(m); got != "admin=1200,import=600,probe=0" {
		t.Fatalf("FormatLimits %q", got)
	}
	if m, err := ParseLimits(""); err != nil || len(m) != 0 {
		t.Fatalf("empty: %v %v", m, err)
	}
	for _, bad := range []string{"import", "import=-1", "import=x", "=5", "a b=1", "import=1,import=2", "import=60000001"} {
		if _, err := ParseLimits(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestConfigPolicyFlags(t *testing.T) {
	c := parse(t, "--rate-limit=50", "--rate-limit-classes=import=600,admin=1200", "--rate-limit-roles=admin=1000")
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	p := c.Policy()
	if p.Default != 50 || p.Classes["import"] != 600 || p.Classes["admin"] != 1200 || p.Roles["admin"] != 1000 {
		t.Fatalf("policy %+v", p)
	}
	bad := parse(t, "--rate-limit-classes=import", "--rate-limit-roles=admin=-3")
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "--rate-limit-classes/SOC_RATE_LIMIT_CLASSES") || !strings.Contains(err.Error(), "--rate-limit-roles/SOC_RATE_LIMIT_ROLES") {
		t.Fatalf("validate: %v", err)
	}
}

// With a policy, each class with its own limit is a bucket of its own, a role raises the
// default bucket, the headers name the bucket, and SetPolicy takes effect on the next request.
func TestMiddlewarePolicyBucketsAndHotSwap(t *testing.T) {
	rejected := map[string]int{}
	m := &Middleware{Limiter: NewMemory(), Key: SourceAddress,
		Class:    func(r *http.Request) string { return r.Header.Get("X-Class") },
		Roles:    func(r *http.Request) []string { return r.Header.Values("X-Role") },
		OnReject: func(name string) { rejected[name]++ }}
	m.SetPolicy(&Policy{Default: 1, Classes: map[string]int{"import": 2}, Roles: map[string]int{"admin": 3}})
	h := m.Wrap(okHandler())
	do := func(addr, class, role string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.RemoteAddr = addr
		if class != "" {
			r.Header.Set("X-Class", class)
		}
		if role != "" {
			r.Header.Set("X-Role", role)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := do("192.0.2.1:1", "read", ""); w.Code != http.StatusNoContent || w.Header().Get("RateLimit-Policy") != `"default";q=1;w=60` {
		t.Fatalf("first read: %d %q", w.Code, w.Header().Get("RateLimit-Policy"))
	}
	if w := do("192.0.2.1:1", "write", ""); w.Code != http.StatusTooManyRequests {
		t.Fatalf("second default-bucket request: %d, want 429", w.Code)
	}
	for i := range 2 { // the import bucket is untouched by the reads
		if w := do("192.0.2.1:1", "import", ""); w.Code != http.StatusNoContent || w.Header().Get("RateLimit-Policy") != `"class:import";q=2;w=60` {
			t.Fatalf("import %d: %d %q", i+1, w.Code, w.Header().Get("RateLimit-Policy"))
		}
	}
	if w := do("192.0.2.1:1", "import", ""); w.Code != http.StatusTooManyRequests {
		t.Fatalf("third import: %d, want 429", w.Code)
	}
	for i := range 3 {
		if w := do("192.0.2.2:1", "read", "admin"); w.Code != http.StatusNoContent {
			t.Fatalf("admin read %d: %d", i+1, w.Code)
		}
	}
	if w := do("192.0.2.2:1", "read", "admin"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("fourth admin read: %d, want 429", w.Code)
	}
	if rejected["default"] != 2 || rejected["class:import"] != 1 {
		t.Fatalf("rejections %v", rejected)
	}
	// A client's state is its bucket's theoretical arrival time, which a new limit reads as is: a
	// client already over its old budget waits out its debt, a fresh one sees the new limit.
	m.SetPolicy(&Policy{Default: 1000})
	if w := do("192.0.2.3:1", "read", ""); w.Code != http.StatusNoContent || w.Header().Get("RateLimit-Policy") != `"default";q=1000;w=60` {
		t.Fatalf("after SetPolicy: %d %q", w.Code, w.Header().Get("RateLimit-Policy"))
	}
	m.SetPolicy(&Policy{Default: 0})
	if w := do("192.0.2.1:1", "read", ""); w.Code != http.StatusNoContent || w.Header().Get("RateLimit") != "" {
		t.Fatalf("policy off: %d, headers %v", w.Code, w.Header())
	}
}
