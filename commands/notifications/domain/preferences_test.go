package domain

import (
	"strings"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	berlinNight := time.Date(2026, 1, 15, 21, 30, 0, 0, time.UTC) // 22:30 in Berlin (CET)
	berlinDay := time.Date(2026, 1, 15, 11, 0, 0, 0, time.UTC)    // 12:00 in Berlin
	quiet := &QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin", BypassSeverity: "critical"}
	rules := []Rule{
		{Channel: "*", Kind: "*", MinSeverity: "high"},
		{Channel: "email", Kind: "sla_reminder", MinSeverity: "low"},
		{Channel: "sms", Off: true},
		{Channel: "sms", Kind: "kev_alert", MinSeverity: "critical"},
	}
	cases := []struct {
		name   string
		p      Preferences
		m      Candidate
		now    time.Time
		want   Outcome
		reason string
		until  time.Time
	}{
		{name: "no preferences: deliver", m: Candidate{"email", "kev_alert", "low"}, now: berlinDay, want: OutcomeDeliver},
		{name: "wildcard rule lets high through", p: Preferences{Rules: rules}, m: Candidate{"slack", "new_findings", "high"}, now: berlinDay, want: OutcomeDeliver},
		{name: "wildcard rule stops medium", p: Preferences{Rules: rules}, m: Candidate{"slack", "new_findings", "medium"}, now: berlinDay, want: OutcomeSuppress, reason: ReasonPreference},
		{name: "specific kind rule wins over wildcard", p: Preferences{Rules: rules}, m: Candidate{"email", "sla_reminder", "low"}, now: berlinDay, want: OutcomeDeliver},
		{name: "specific rule below its minimum", p: Preferences{Rules: rules}, m: Candidate{"email", "sla_reminder", "info"}, now: berlinDay, want: OutcomeSuppress, reason: ReasonPreference},
		{name: "channel off", p: Preferences{Rules: rules}, m: Candidate{"sms", "new_findings", "critical"}, now: berlinDay, want: OutcomeSuppress, reason: ReasonPreference},
		{name: "channel+kind beats channel off", p: Preferences{Rules: rules}, m: Candidate{"sms", "kev_alert", "critical"}, now: berlinDay, want: OutcomeDeliver},
		{name: "allowlist without a match", p: Preferences{Rules: []Rule{{Channel: "email"}}}, m: Candidate{"slack", "kev_alert", "critical"}, now: berlinDay, want: OutcomeSuppress, reason: ReasonPreference},
		{name: "quiet hours defer to 07:00 local", p: Preferences{QuietHours: quiet}, m: Candidate{"email", "new_findings", "high"}, now: berlinNight, want: OutcomeDefer, reason: ReasonQuietHours, until: time.Date(2026, 1, 16, 6, 0, 0, 0, time.UTC)},
		{name: "quiet hours after midnight", p: Preferences{QuietHours: quiet}, m: Candidate{"email", "new_findings", "high"}, now: time.Date(2026, 1, 16, 2, 0, 0, 0, time.UTC), want: OutcomeDefer, reason: ReasonQuietHours, until: time.Date(2026, 1, 16, 6, 0, 0, 0, time.UTC)},
		{name: "critical bypasses quiet hours", p: Preferences{QuietHours: quiet}, m: Candidate{"email", "kev_alert", "critical"}, now: berlinNight, want: OutcomeDeliver},
		{name: "outside quiet hours", p: Preferences{QuietHours: quiet}, m: Candidate{"email", "new_findings", "high"}, now: berlinDay, want: OutcomeDeliver},
		{name: "quiet hours drop", p: Preferences{QuietHours: &QuietHours{Start: "22:00", End: "07:00", TimeZone: "Europe/Berlin", Drop: true}}, m: Candidate{"email", "kev_alert", "critical"}, now: berlinNight, want: OutcomeSuppress, reason: ReasonQuietHours},
		{name: "rules before quiet hours", p: Preferences{Rules: rules, QuietHours: quiet}, m: Candidate{"slack", "new_findings", "low"}, now: berlinNight, want: OutcomeSuppress, reason: ReasonPreference},
		{name: "digest", p: Preferences{Digest: map[string]DigestMode{"email": {Interval: time.Hour}}}, m: Candidate{"email", "new_findings", "high"}, now: berlinDay, want: OutcomeDigest, reason: ReasonDigest},
		{name: "digest only on its channel", p: Preferences{Digest: map[string]DigestMode{"email": {Interval: time.Hour}}}, m: Candidate{"slack", "new_findings", "high"}, now: berlinDay, want: OutcomeDeliver},
		{name: "immediate severity skips the digest", p: Preferences{Digest: map[string]DigestMode{"email": {Interval: time.Hour, ImmediateSeverity: "critical"}}}, m: Candidate{"email", "kev_alert", "critical"}, now: berlinDay, want: OutcomeDeliver},
		{name: "a digest is not digested again nor filtered by rules", p: Preferences{Rules: []Rule{{Channel: "email", Kind: "new_findings"}}, Digest: map[string]DigestMode{"email": {Interval: time.Hour}}}, m: Candidate{"email", KindDigest, "high"}, now: berlinDay, want: OutcomeDeliver},
		{name: "a digest respects quiet hours", p: Preferences{QuietHours: quiet, Digest: map[string]DigestMode{"email": {Interval: time.Hour}}}, m: Candidate{"email", KindDigest, "high"}, now: berlinNight, want: OutcomeDefer, reason: ReasonQuietHours, until: time.Date(2026, 1, 16, 6, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.p.Validate(); err != nil {
				t.Fatal(err)
			}
			d := Decide(c.p, c.m, c.now)
			if d.Outcome != c.want || d.Reason != c.reason || !d.Until.Equal(c.until) {
				t.Fatalf("Decide = %+v, want %s/%s until %s", d, c.want, c.reason, c.until)
			}
			if d.Outcome == OutcomeDigest {
				if want := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC); !d.DigestDueAt.Equal(want) || !d.DigestStart.Equal(want.Add(-time.Hour)) {
					t.Fatalf("digest window %s–%s, want ending %s", d.DigestStart, d.DigestDueAt, want)
				}
			}
		})
	}
}

func TestQuietHoursActive(t *testing.T) {
	t.Parallel()
	ny := "America/New_York"
	cases := []struct {
		name       string
		q          QuietHours
		now        time.Time
		in         bool
		wantEndUTC time.Time
	}{
		{"same-day window inside", QuietHours{Start: "12:00", End: "13:30", TimeZone: "UTC"}, time.Date(2026, 3, 1, 12, 59, 0, 0, time.UTC), true, time.Date(2026, 3, 1, 13, 30, 0, 0, time.UTC)},
		{"same-day window end is exclusive", QuietHours{Start: "12:00", End: "13:30", TimeZone: "UTC"}, time.Date(2026, 3, 1, 13, 30, 0, 0, time.UTC), false, time.Time{}},
		{"wrap: start is inclusive", QuietHours{Start: "22:00", End: "07:00"}, time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC), true, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)},
		{"wrap: early morning", QuietHours{Start: "22:00", End: "07:00"}, time.Date(2026, 3, 2, 6, 59, 0, 0, time.UTC), true, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)},
		{"wrap: daytime", QuietHours{Start: "22:00", End: "07:00"}, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC), false, time.Time{}},
		{"empty window", QuietHours{Start: "07:00", End: "07:00"}, time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC), false, time.Time{}},
		// 2026-03-08 02:00 EST → 03:00 EDT: the night is an hour shorter, 07:00 EDT is 11:00 UTC.
		{"time zone across DST start", QuietHours{Start: "22:00", End: "07:00", TimeZone: ny}, time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC), true, time.Date(2026, 3, 8, 11, 0, 0, 0, time.UTC)},
		{"time zone in winter", QuietHours{Start: "22:00", End: "07:00", TimeZone: ny}, time.Date(2026, 1, 8, 4, 0, 0, 0, time.UTC), true, time.Date(2026, 1, 8, 12, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, end, err := c.q.Active(c.now)
			if err != nil {
				t.Fatal(err)
			}
			if in != c.in || !end.Equal(c.wantEndUTC) {
				t.Fatalf("Active = %v %s, want %v %s", in, end, c.in, c.wantEndUTC)
			}
		})
	}
}

func TestPreferencesValidate(t *testing.T) {
	t.Parallel()
	p := Preferences{
		Rules:      []Rule{{MinSeverity: "urgent"}},
		QuietHours: &QuietHours{Start: "25:00", End: "7", TimeZone: "Mars/Olympus", BypassSeverity: "x"},
		Digest:     map[string]DigestMode{"email": {Interval: time.Second}},
	}
	err := p.Validate()
	if err == nil {
		t.Fatal("want errors")
	}
	for _, want := range []string{"rules[0].min_severity", "quiet_hours.start", "quiet_hours.end", "quiet_hours.time_zone", "quiet_hours.bypass_severity", "digest[email].interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}
