package domain

import (
	"fmt"
	"time"
)

// SLAPolicy gives the days to remediate by severity, optionally overridden per asset criticality
// (a critical production asset may get 3 days for a critical finding where the default is 7).
// Info findings have no due date.
type SLAPolicy struct {
	Days          map[Severity]int            `json:"days"`
	ByCriticality map[string]map[Severity]int `json:"by_criticality,omitempty"` // asset criticality → overrides
}

// DefaultSLA is the policy when none is configured: critical 7, high 30, medium 90, low 120 days.
func DefaultSLA() SLAPolicy {
	return SLAPolicy{Days: map[Severity]int{Critical: 7, High: 30, Medium: 90, Low: 120}}
}

// DueAt returns when a finding of severity sev on an asset of the given criticality, first seen
// at opened, must be remediated; ok is false when the policy sets no deadline.
func (p SLAPolicy) DueAt(sev Severity, criticality string, opened time.Time) (time.Time, bool) {
	days, ok := p.ByCriticality[criticality][sev]
	if !ok {
		days, ok = p.Days[sev]
	}
	if !ok || days <= 0 {
		return time.Time{}, false
	}
	return opened.UTC().AddDate(0, 0, days), true
}

// Validate reports every problem of the policy at once.
func (p SLAPolicy) Validate() error {
	var problems []string
	check := func(where string, m map[Severity]int) {
		for sev, d := range m {
			switch sev {
			case Critical, High, Medium, Low, Info:
			default:
				problems = append(problems, fmt.Sprintf("%s: unknown severity %q", where, sev))
			}
			if d < 0 || d > 3650 {
				problems = append(problems, fmt.Sprintf("%s: %s: %d days is outside 0..3650", where, sev, d))
			}
		}
	}
	check("days", p.Days)
	for c, m := range p.ByCriticality {
		check("by_criticality."+c, m)
	}
	if len(problems) > 0 {
		return fmt.Errorf("SLA policy: %v", problems)
	}
	return nil
}
