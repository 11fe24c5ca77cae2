package contracts

import (
	"slices"
	"testing"
)

// TestCompareIP: each pair is checked both ways round, so the order is antisymmetric as
// slices.SortFunc needs.
func TestCompareIP(t *testing.T) {
	before := [][2]string{
		{"10.0.0.2", "10.0.0.10"}, // numeric: byte order would put 10.0.0.10 first
		{"9.9.9.9", "10.0.0.1"},
		{"255.255.255.255", "::1"},      // IPv4 before IPv6
		{"10.0.0.1", "::ffff:10.0.0.1"}, // a v4-mapped address is IPv6
		{"2001:db8::2", "2001:db8::10"},
		{"fe80::1", "fe80::1%eth0"}, // the zone orders last
		{"10.0.0.10", "host"},       // not an address: byte order
		{"", "10.0.0.1"},
		{"10.0.0.10", "10.0.0.2/24"}, // a prefix is not an address
		{"a", "b"},
	}
	for _, p := range before {
		if got := CompareIP(p[0], p[1]); got != -1 {
			t.Errorf("CompareIP(%q, %q) = %d, want -1", p[0], p[1], got)
		}
		if got := CompareIP(p[1], p[0]); got != 1 {
			t.Errorf("CompareIP(%q, %q) = %d, want 1", p[1], p[0], got)
		}
		if got := CompareIP(p[0], p[0]); got != 0 {
			t.Errorf("CompareIP(%q, %q) = %d, want 0", p[0], p[0], got)
		}
	}
	ips := []string{"::1", "10.0.0.10", "2001:db8::1", "10.0.0.2", "9.0.0.1"}
	slices.SortFunc(ips, CompareIP)
	if want := []string{"9.0.0.1", "10.0.0.2", "10.0.0.10", "::1", "2001:db8::1"}; !slices.Equal(ips, want) {
		t.Errorf("sorted %q, want %q", ips, want)
	}
}
