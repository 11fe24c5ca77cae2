package reporting

import (
	"context"
	"errors"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// maxCatchUp bounds the occurrences walked to find the latest missed one (a minute-by-minute
// schedule missed for a year is 525,600: walked in well under a second).
const maxCatchUp = 1 << 20

// dueAt is the fire time sc should request at now: the latest occurrence after both its last
// fire time and the moment it was created or enabled, at or before now; zero when none is due.
// Occurrences missed while no node ran collapse into that one: a report covers its period as of
// when it is generated, so ten missed weekly reports would be ten copies of the same document.
func dueAt(sc *Schedule, last, now time.Time) time.Time {
	expr, err := ParseCron(sc.Cron)
	if err != nil {
		return time.Time{}
	}
	loc, err := scheduleLocation(sc.TimeZone)
	if err != nil {
		return time.Time{}
	}
	base := sc.since
	if last.After(base) {
		base = last
	}
	t := nextAfter(expr, loc, base)
	if t.IsZero() || t.After(now) {
		return time.Time{}
	}
	for range maxCatchUp {
		n := nextAfter(expr, loc, t)
		if n.IsZero() || n.After(now) {
			break
		}
		t = n
	}
	return t
}

// FireDue requests the report of every enabled schedule that is due at Config.Now, once per
// fire time, and returns how many it requested. The scheduler loop calls it; tests call it
// with a controlled clock.
//
// Exactly once per fire time: the report's id is derived from the schedule and the fire time
// (scheduledReportID), so the service checks whether it has it before appending, and a second
// node (or a retry after a crash between the append and the state update) appends it with
// ExpectedVersion NoStream and conflicts. After a restart, the last fire time per schedule comes
// from the ReportRequested events Start reads (schedule_id, scheduled_for).
func (s *Service) FireDue(ctx context.Context) (int, error) {
	now := s.cfg.Now()
	type fire struct {
		sc Schedule
		at time.Time
	}
	var due []fire
	s.mu.Lock()
	for _, sc := range s.schedules {
		if !sc.Enabled {
			continue
		}
		if at := dueAt(sc, s.lastFired[sc.ID], now); !at.IsZero() {
			due = append(due, fire{*sc, at})
		}
	}
	s.mu.Unlock()
	fired := 0
	var errs []error
	for _, f := range due {
		ok, err := s.fire(ctx, &f.sc, f.at)
		if ok {
			fired++
		}
		errs = append(errs, err)
	}
	return fired, errors.Join(errs...)
}

// fire requests sc's report for the fire time at; false when it was requested already.
func (s *Service) fire(ctx context.Context, sc *Schedule, at time.Time) (bool, error) {
	id := scheduledReportID(sc.ID, at)
	s.mu.Lock()
	_, done := s.reports[id]
	s.mu.Unlock()
	if done {
		s.markFired(sc.ID, at)
		return false, nil
	}
	_, err := s.Request(ctx, Request{Template: sc.Template, Format: sc.Format, Filters: sc.Filters, By: sc.owner(),
		ScheduleID: sc.ID, ScheduledFor: at})
	var conflict *events.VersionConflictError
	var param *problem.ParamError
	switch {
	case err == nil:
		s.cfg.Log.Info("reporting: a schedule fired", "schedule_id", sc.ID, "scheduled_for", at, "report_id", id)
		return true, nil
	case errors.As(err, &conflict): // another node requested it first
		s.markFired(sc.ID, at)
		return false, nil
	case errors.As(err, &param):
		// The schedule no longer makes a valid request (its template was deleted, its format is
		// no longer generated): this fire time is skipped rather than retried every minute.
		s.markFired(sc.ID, at)
		s.cfg.Log.Warn("reporting: a schedule cannot fire", "schedule_id", sc.ID, "scheduled_for", at, "err", err)
		return false, nil
	default: // the store or the queue (503): the next tick tries again
		return false, err
	}
}

func (s *Service) markFired(scheduleID string, at time.Time) {
	s.mu.Lock()
	if at.After(s.lastFired[scheduleID]) {
		s.lastFired[scheduleID] = at
	}
	s.mu.Unlock()
}

// Scheduler wake-up bounds: it sleeps until the next fire time but at most a minute, so a
// clock jump or a time-zone rule change is noticed within a minute.
const (
	minTick = time.Second
	maxTick = time.Minute
)

// untilNext is how long the scheduler sleeps.
func (s *Service) untilNext() time.Duration {
	now := s.cfg.Now()
	wait := maxTick
	s.mu.Lock()
	for _, sc := range s.schedules {
		if next := s.scheduleView(sc).NextRun; sc.Enabled && !next.IsZero() && next.Sub(now) < wait {
			wait = next.Sub(now)
		}
	}
	s.mu.Unlock()
	return max(wait, minTick)
}

// runScheduler fires the due schedules until ctx ends; a schedule saved or deleted wakes it.
func (s *Service) runScheduler(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.schedWake:
		}
		if _, err := s.FireDue(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Log.Warn("reporting: firing the due schedules", "err", err)
		}
		t.Reset(s.untilNext())
	}
}

func (s *Service) signalScheduler() { poke(s.schedWake) }
