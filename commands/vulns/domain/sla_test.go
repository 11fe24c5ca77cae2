package domain

import (
	"testing"
	"time"
)

func TestSLADefaultsAndOverrides(t *testing.T) {
	opened := time.Date(2026, 2, 26, 10, 0, 0, 0, time.UTC)
	p := DefaultSLA()
	p.ByCriticality = map[string]map[Severity]int{"critical": {Critical: 3}}
	cases := []struct {
		sev  Severity
		crit string
		want string
		ok   bool
	}{
		{Critical, "", "2026-03-05", true},
		{High, "", "2026-03-28", true},
		{Medium, "low", "2026-05-27", true},
		{Low, "", "2026-06-26", true},
		{Info, "", "", false},
		{Critical, "critical", "2026-03-01", true},
		{High, "critical", "2026-03-28", true}, // no override for high: the default applies
	}
	for _, c := range cases {
		due, ok := p.DueAt(c.sev, c.crit, opened)
		if ok != c.ok || (ok && due.Format("2006-01-02") != c.want) {
			t.Errorf("%s on %q: %v %v, want %s %v", c.sev, c.crit, due, ok, c.want, c.ok)
		}
	}
	if err := (SLAPolicy{Days: map[Severity]int{"urgent": 1, High: -1}}).Validate(); err == nil {
		t.Fatal("invalid policy accepted")
	}
}
