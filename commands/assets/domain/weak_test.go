package domain

import (
	"strings"
	"testing"
)

func TestWeakKeyNormalisesTheName(t *testing.T) {
	cases := []struct{ hint, name, want string }{
		{"artifact", "alpine:3.10", "weak:artifact:alpine:3.10"},
		{"artifact", "  Alpine:3.10 ", "weak:artifact:alpine:3.10"},
		{"tool_path", "Semgrep\t\n  src/", "weak:tool_path:semgrep src/"},
		{"Base URL", "http://x", "weak:base_url:http://x"},
		{"", "scan", "weak:target:scan"},
		{"scan", " \t", ""},
	}
	for _, c := range cases {
		if got := WeakKey(c.hint, c.name); got != c.want {
			t.Errorf("WeakKey(%q, %q) = %q, want %q", c.hint, c.name, got, c.want)
		}
	}
	long := WeakKey("scan", strings.Repeat("x", MaxWeakNameLen+1))
	if !strings.HasPrefix(long, "weak:scan:sha256:") || len(long) != len("weak:scan:sha256:")+64 {
		t.Errorf("a long name: %q", long)
	}
}

func TestRegisterWeaklyIndexesTheWeakKeyAndName(t *testing.T) {
	x := NewIndex()
	a := &Asset{}
	key := WeakKey("artifact", ".")
	replay(t, a, assetID(1), must(t)(a.RegisterWeakly(RegisterWeak{Kind: Repository, Name: ".", WeakKey: key, ScanID: "s1"})), x)
	if !a.Exists() || a.WeakKey != key || a.Kind != Repository || a.Name != "." || !a.Identifiers.IsEmpty() {
		t.Fatalf("asset %+v", a)
	}
	if id, ok := x.Weak(key); !ok || id != assetID(1) {
		t.Fatalf("Weak(%s) = %s, %v", key, id, ok)
	}
	if got := x.Named("."); len(got) != 1 || got[0] != assetID(1) {
		t.Fatalf("Named = %v", got)
	}
	// A snapshot of the index keeps both.
	y := NewIndex()
	y.Restore(x.Entries())
	if id, ok := y.Weak(key); !ok || id != assetID(1) || len(y.Named(".")) != 1 {
		t.Fatalf("restored index: weak %s %v, named %v", id, ok, y.Named("."))
	}
	// Retiring frees the key: the next report naming the target registers anew.
	replay(t, a, assetID(1), must(t)(a.Retire("gone")), x)
	if _, ok := x.Weak(key); ok {
		t.Fatal("a retired asset still holds its weak key")
	}
	if _, err := a.RegisterWeakly(RegisterWeak{Kind: Repository, Name: ".", WeakKey: key, ScanID: "s1"}); err == nil {
		t.Fatal("registered twice")
	}
}

func TestRegisterWeaklyRules(t *testing.T) {
	key := WeakKey("scan", "x")
	for name, c := range map[string]struct {
		cmd   RegisterWeak
		field string
	}{
		"kind":     {RegisterWeak{Kind: "printer", Name: "x", WeakKey: key, ScanID: "s"}, "/kind"},
		"name":     {RegisterWeak{Kind: Host, Name: " ", WeakKey: key, ScanID: "s"}, "/name"},
		"weak key": {RegisterWeak{Kind: Host, Name: "x", WeakKey: "x", ScanID: "s"}, "/weak_key"},
		"scan id":  {RegisterWeak{Kind: Host, Name: "x", WeakKey: key}, "/scan_id"},
	} {
		var a Asset
		_, err := a.RegisterWeakly(c.cmd)
		wantRule(t, name, err, c.field)
	}
}

func TestIndexNamedFollowsRenames(t *testing.T) {
	x := NewIndex()
	a := registered(t, assetID(1), aHost(), x)
	replay(t, a, assetID(1), must(t)(a.Update(UpdateAsset{Name: ptr("web02")})), x)
	if len(x.Named("web01")) != 0 || len(x.Named("web02")) != 1 {
		t.Fatalf("named web01 %v, web02 %v", x.Named("web01"), x.Named("web02"))
	}
}
