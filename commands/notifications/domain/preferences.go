package domain

import (
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // quiet hours need time zones, also on hosts without a zoneinfo database
)

// Preferences are one user's delivery rules. The zero value delivers everything at once.
type Preferences struct {
	UserID string `json:"user_id"`
	// Rules, when any are set, are an allowlist: a message is delivered only when the most
	// specific rule matching its channel and kind lets its severity through. No rules: every
	// message is delivered.
	Rules []Rule `json:"rules,omitempty"`
	// QuietHours, when set, hold back (or drop) non-urgent messages during a daily window.
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	// Digest maps a channel to its digest mode: messages on that channel are collected and sent
	// as one message per interval.
	Digest map[string]DigestMode `json:"digest,omitempty"`
}

// Rule matches channel × kind ("*" or "" matches any) and lets messages of at least MinSeverity
// through; Off lets nothing through.
type Rule struct {
	Channel     string `json:"channel,omitempty"`
	Kind        string `json:"kind,omitempty"`
	MinSeverity string `json:"min_severity,omitempty"` // default info: everything
	Off         bool   `json:"off,omitempty"`
}

// QuietHours is a daily window in the user's time zone. Start and End are "HH:MM"; a window
// whose end is not after its start wraps midnight (22:00–07:00). Start == End means none.
type QuietHours struct {
	Start    string `json:"start"`
	End      string `json:"end"`
	TimeZone string `json:"time_zone"` // IANA name; default UTC
	// BypassSeverity: messages at or above it are delivered during quiet hours (e.g. "critical").
	// Empty: nothing bypasses.
	BypassSeverity string `json:"bypass_severity,omitempty"`
	// Drop suppresses messages that arrive in quiet hours instead of deferring them to the end.
	Drop bool `json:"drop,omitempty"`
}

// DigestMode collects a channel's messages into one message per Interval (windows aligned on
// multiples of Interval since the Unix epoch, UTC). Messages at or above ImmediateSeverity skip
// the digest; empty: every message goes to the digest.
type DigestMode struct {
	Interval          time.Duration `json:"interval"`
	ImmediateSeverity string        `json:"immediate_severity,omitempty"`
}

// Outcome of Decide.
type Outcome string

const (
	OutcomeDeliver  Outcome = "deliver"
	OutcomeDefer    Outcome = "defer"
	OutcomeSuppress Outcome = "suppress"
	OutcomeDigest   Outcome = "digest"
)

// Candidate is what Decide needs to know about a message.
type Candidate struct {
	Channel  string
	Kind     string
	Severity string
}

// Decision is what the preferences say about one message.
type Decision struct {
	Outcome Outcome
	Reason  string    // suppress/defer: preference, quiet_hours; digest: digest
	Detail  string    // human-readable why
	Until   time.Time // defer: the end of the quiet hours
	// Digest: the window the message belongs to. DigestID is filled by the application layer
	// (it derives the digest notification's stream id from the window).
	DigestStart, DigestDueAt time.Time
	DigestID                 string
}

// Decide applies p to one message at now. It is pure. Order: rules (suppress), digest (group;
// the digest message itself is decided again, as kind "digest", when it falls due), quiet hours
// (defer or drop, unless the severity bypasses them).
//
// A digest (kind "digest") skips the rules and the digest mode: its items passed them already.
func Decide(p Preferences, m Candidate, now time.Time) Decision {
	if m.Kind != KindDigest {
		if d, ok := p.rules(m); !ok {
			return d
		}
	}
	if dm, ok := p.Digest[m.Channel]; ok && dm.Interval > 0 && m.Kind != KindDigest &&
		(dm.ImmediateSeverity == "" || SeverityRank(m.Severity) < SeverityRank(dm.ImmediateSeverity)) {
		return digestDecision(fmt.Sprintf("%s digest every %s", m.Channel, dm.Interval), dm.Interval, now)
	}
	if q := p.QuietHours; q != nil {
		in, end, err := q.Active(now)
		if err == nil && in && (q.BypassSeverity == "" || SeverityRank(m.Severity) < SeverityRank(q.BypassSeverity)) {
			detail := fmt.Sprintf("quiet hours %s–%s %s", q.Start, q.End, q.zone())
			if q.Drop {
				return Decision{Outcome: OutcomeSuppress, Reason: ReasonQuietHours, Detail: detail}
			}
			return Decision{Outcome: OutcomeDefer, Reason: ReasonQuietHours, Detail: detail, Until: end}
		}
	}
	return Decision{Outcome: OutcomeDeliver}
}

// digestDecision puts a message into the digest window of length interval that holds now
// (windows aligned on multiples of interval since the Unix epoch, UTC).
func digestDecision(detail string, interval time.Duration, now time.Time) Decision {
	start := now.UTC().Truncate(interval)
	return Decision{Outcome: OutcomeDigest, Reason: ReasonDigest, Detail: detail, DigestStart: start, DigestDueAt: start.Add(interval)}
}

// Coalesce turns a decision to deliver (now or after quiet hours) into a digest of the window of
// length interval that holds now: the platform's own batching of messages that come in bursts
// (SLA breaches found together), whatever the recipient's digest settings. A suppression or the
// recipient's own digest is kept; interval <= 0 changes nothing. The digest itself is decided
// again with the preferences (quiet hours) when its window closes.
func Coalesce(d Decision, kind string, interval time.Duration, now time.Time) Decision {
	if interval <= 0 || (d.Outcome != OutcomeDeliver && d.Outcome != OutcomeDefer) {
		return d
	}
	return digestDecision(fmt.Sprintf("%s coalesced into one digest every %s", kind, interval), interval, now)
}

// rules applies the allowlist; ok false means suppressed (d says why).
func (p Preferences) rules(m Candidate) (d Decision, ok bool) {
	r, found := p.match(m)
	switch {
	case !found && len(p.Rules) > 0:
		return Decision{Outcome: OutcomeSuppress, Reason: ReasonPreference, Detail: fmt.Sprintf("no rule lets %s × %s through", m.Channel, m.Kind)}, false
	case !found:
		return Decision{}, true
	case r.Off:
		return Decision{Outcome: OutcomeSuppress, Reason: ReasonPreference, Detail: fmt.Sprintf("%s × %s is off", orAny(r.Channel), orAny(r.Kind))}, false
	case r.MinSeverity != "" && SeverityRank(m.Severity) < SeverityRank(r.MinSeverity):
		return Decision{Outcome: OutcomeSuppress, Reason: ReasonPreference, Detail: fmt.Sprintf("%s × %s needs severity %s or higher, got %s", orAny(r.Channel), orAny(r.Kind), r.MinSeverity, m.Severity)}, false
	}
	return Decision{}, true
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func wild(s string) bool { return s == "" || s == "*" }

// match returns the most specific rule for m: channel and kind > kind only > channel only >
// neither; the first of equally specific rules wins.
func (p Preferences) match(m Candidate) (Rule, bool) {
	best, bestScore := Rule{}, -1
	for _, r := range p.Rules {
		if (!wild(r.Channel) && r.Channel != m.Channel) || (!wild(r.Kind) && r.Kind != m.Kind) {
			continue
		}
		score := 0
		if !wild(r.Kind) {
			score += 2
		}
		if !wild(r.Channel) {
			score++
		}
		if score > bestScore {
			best, bestScore = r, score
		}
	}
	return best, bestScore >= 0
}

// Validate reports every problem at once.
func (p Preferences) Validate() error {
	var errs []error
	for i, r := range p.Rules {
		if r.MinSeverity != "" && !ValidSeverity(r.MinSeverity) {
			errs = append(errs, fmt.Errorf("rules[%d].min_severity: %q is not a severity", i, r.MinSeverity))
		}
	}
	if q := p.QuietHours; q != nil {
		if _, err := parseClock(q.Start); err != nil {
			errs = append(errs, fmt.Errorf("quiet_hours.start: %w", err))
		}
		if _, err := parseClock(q.End); err != nil {
			errs = append(errs, fmt.Errorf("quiet_hours.end: %w", err))
		}
		if _, err := time.LoadLocation(q.zone()); err != nil {
			errs = append(errs, fmt.Errorf("quiet_hours.time_zone: %w", err))
		}
		if q.BypassSeverity != "" && !ValidSeverity(q.BypassSeverity) {
			errs = append(errs, fmt.Errorf("quiet_hours.bypass_severity: %q is not a severity", q.BypassSeverity))
		}
	}
	for ch, d := range p.Digest {
		if d.Interval < time.Minute || d.Interval > 7*24*time.Hour {
			errs = append(errs, fmt.Errorf("digest[%s].interval: %s is not between 1m and 168h", ch, d.Interval))
		}
		if d.ImmediateSeverity != "" && !ValidSeverity(d.ImmediateSeverity) {
			errs = append(errs, fmt.Errorf("digest[%s].immediate_severity: %q is not a severity", ch, d.ImmediateSeverity))
		}
	}
	return errors.Join(errs...)
}

func (q *QuietHours) zone() string {
	if q.TimeZone == "" {
		return "UTC"
	}
	return q.TimeZone
}

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Active reports whether now falls in the quiet hours and, if so, when they end (the next End
// wall-clock time in the zone after now; across a DST change the wall clock is normalised as
// time.Date does).
func (q *QuietHours) Active(now time.Time) (bool, time.Time, error) {
	start, err := parseClock(q.Start)
	if err != nil {
		return false, time.Time{}, err
	}
	end, err := parseClock(q.End)
	if err != nil {
		return false, time.Time{}, err
	}
	loc, err := time.LoadLocation(q.zone())
	if err != nil {
		return false, time.Time{}, err
	}
	if start == end {
		return false, time.Time{}, nil
	}
	local := now.In(loc)
	m := local.Hour()*60 + local.Minute()
	var in bool
	if start < end {
		in = m >= start && m < end
	} else { // wraps midnight
		in = m >= start || m < end
	}
	if !in {
		return false, time.Time{}, nil
	}
	y, mo, d := local.Date()
	until := time.Date(y, mo, d, end/60, end%60, 0, 0, loc)
	if !until.After(now) {
		until = time.Date(y, mo, d+1, end/60, end%60, 0, 0, loc)
	}
	return true, until.UTC(), nil
}
