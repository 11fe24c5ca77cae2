package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events/eventstest"
)

func TestSendOnceAndDuplicateRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{}
	w := e.worker(e.store, map[string]channels.Sender{email: s}, nil)
	r := e.request("kev|CVE-2024-6387|web-01", email, "critical", "KEV on web-01")
	if r.Duplicate || r.MessageID != strings.TrimPrefix(r.NotificationID, domain.StreamPrefix) {
		t.Fatalf("result %+v", r)
	}
	again := e.request("kev|CVE-2024-6387|web-01", email, "critical", "KEV on web-01")
	if !again.Duplicate || again.NotificationID != r.NotificationID {
		t.Fatalf("second request %+v", again)
	}
	if n := e.pass(w); n != 1 {
		t.Fatalf("started %d", n)
	}
	_, acc := s.stats()
	if len(acc) != 1 || acc[0].ID != r.MessageID || acc[0].Subject != "KEV on web-01" || acc[0].To.Email != alice.Email {
		t.Fatalf("accepted %+v", acc)
	}
	data := e.wantTypes(r.NotificationID, req, att, sent)
	if data[1]["message_id"] != r.MessageID || data[2]["attempt"] != 1.0 {
		t.Fatalf("events %+v", data)
	}
	if n := e.pass(w); n != 0 {
		t.Fatalf("second pass started %d", n)
	}
	if live, _ := w.Pending(); live != 0 {
		t.Fatalf("%d live", live)
	}
}

func TestRetriesWithBackoffThenSent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{failFirst: 2}
	w := e.worker(e.store, map[string]channels.Sender{email: s}, nil)
	r := e.request("t1", email, "high", "retry me")
	e.pass(w) // attempt 1 fails: next in 1m
	if n := e.pass(w); n != 0 {
		t.Fatalf("retried before the backoff: %d", n)
	}
	e.clock.Advance(time.Minute)
	e.pass(w) // attempt 2 fails: next in 2m
	e.clock.Advance(time.Minute)
	if n := e.pass(w); n != 0 {
		t.Fatalf("retried before the doubled backoff: %d", n)
	}
	e.clock.Advance(time.Minute)
	e.pass(w) // attempt 3 succeeds
	data := e.wantTypes(r.NotificationID, req, att, fail, att, fail, att, sent)
	if data[2]["retryable"] != true || data[2]["next_attempt_at"] != "2026-05-04T10:06:00Z" {
		t.Fatalf("first failure %+v", data[2])
	}
	if data[4]["next_attempt_at"] != "2026-05-04T10:08:00Z" || !strings.Contains(data[4]["error"].(string), "503") {
		t.Fatalf("second failure %+v", data[4])
	}
	if data[6]["attempt"] != 3.0 {
		t.Fatalf("sent %+v", data[6])
	}
	calls, acc := s.stats()
	if calls != 3 || len(acc) != 1 || acc[0].ID != r.MessageID {
		t.Fatalf("calls %d accepted %+v", calls, acc)
	}
}

func TestRetryAfterWinsOverShorterBackoff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{failFirst: 1, retryAft: 7 * time.Minute}
	w := e.worker(e.store, map[string]channels.Sender{email: s}, nil)
	r := e.request("t1", email, "high", "busy")
	e.pass(w)
	data := e.wantTypes(r.NotificationID, req, att, fail)
	if data[2]["next_attempt_at"] != "2026-05-04T10:12:00Z" {
		t.Fatalf("failure %+v", data[2])
	}
}

func TestDeadLetterAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{failFirst: 1 << 30}
	w := e.worker(e.store, map[string]channels.Sender{email: s}, func(c *WorkerConfig) { c.MaxAttempts = 3 })
	r := e.request("t1", email, "high", "never")
	for range 6 {
		e.pass(w)
		e.clock.Advance(time.Hour)
	}
	data := e.wantTypes(r.NotificationID, req, att, fail, att, fail, att, fail, dead)
	if data[7]["attempts"] != 3.0 || !strings.Contains(data[7]["reason"].(string), "gave up after 3 attempts") ||
		!strings.Contains(data[7]["reason"].(string), "503") {
		t.Fatalf("dead letter %+v", data[7])
	}
	if _, ok := data[6]["next_attempt_at"]; ok {
		t.Fatalf("final failure schedules a retry: %+v", data[6])
	}
	if calls, _ := s.stats(); calls != 3 {
		t.Fatalf("calls %d", calls)
	}
}

func TestPermanentErrorDeadLettersAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{permanent: true}
	w := e.worker(e.store, map[string]channels.Sender{email: s}, nil)
	r := e.request("t1", email, "high", "bad address")
	e.pass(w)
	e.clock.Advance(time.Hour)
	e.pass(w)
	data := e.wantTypes(r.NotificationID, req, att, fail, dead)
	if data[2]["retryable"] != false || data[3]["attempts"] != 1.0 || !strings.Contains(data[3]["reason"].(string), "550") {
		t.Fatalf("events %+v", data)
	}
	if calls, _ := s.stats(); calls != 1 {
		t.Fatalf("calls %d", calls)
	}
}

func TestChannelNotConfiguredDeadLetters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(e.store, map[string]channels.Sender{email: &fakeSender{}}, nil)
	r := e.request("t1", channels.ChannelSMS, "high", "sms")
	e.pass(w)
	data := e.wantTypes(r.NotificationID, req, dead)
	if data[1]["attempts"] != 0.0 || !strings.Contains(data[1]["reason"].(string), "not configured") {
		t.Fatalf("dead letter %+v", data[1])
	}
}

func TestAttemptTimeoutIsRetryable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{block: make(chan struct{})} // never released: only the timeout ends it
	w := e.worker(e.store, map[string]channels.Sender{email: s}, func(c *WorkerConfig) { c.AttemptTimeout = 30 * time.Millisecond })
	r := e.request("t1", email, "high", "slow")
	e.pass(w)
	data := e.wantTypes(r.NotificationID, req, att, fail)
	if data[2]["retryable"] != true || !strings.Contains(data[2]["error"].(string), "deadline exceeded") {
		t.Fatalf("failure %+v", data[2])
	}
}

func TestBlockedChannelDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	blocked := &fakeSender{block: make(chan struct{}), started: make(chan string, 4)}
	mail := &fakeSender{}
	w := e.worker(e.store, map[string]channels.Sender{slack: blocked, email: mail}, func(c *WorkerConfig) {
		c.Concurrency = map[string]int{slack: 1}
		c.AttemptTimeout = time.Minute
	})
	s1 := e.request("a", slack, "high", "slack 1")
	s2 := e.request("b", slack, "high", "slack 2")
	m1 := e.request("c", email, "high", "mail 1")
	n, err := w.DispatchDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 { // one slack (its only slot), one email; the second slack waits for the slot
		t.Fatalf("started %d", n)
	}
	<-blocked.started
	eventually(t, "the email to be sent while slack hangs", func() bool {
		types, _ := e.stream(m1.NotificationID)
		return len(types) == 3 && types[2] == sent
	})
	if n, _ := w.DispatchDue(context.Background()); n != 0 {
		t.Fatalf("started %d while the slack slot is taken", n)
	}
	close(blocked.block)
	w.Wait()
	e.pass(w) // the second slack message now gets the slot
	e.wantTypes(s1.NotificationID, req, att, sent)
	e.wantTypes(s2.NotificationID, req, att, sent)
	blocked.wantAccepted(t, 2)
}

// A notifier killed after the server accepted the message but before NotificationSent was stored
// resends it once, with the same message id; another restart sends nothing.
func TestCrashAfterAcceptBeforeRecordResendsOnceWithSameID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{}
	crashing := &crashingStore{Guarded: e.store, crashType: sent}
	w1 := e.worker(crashing, map[string]channels.Sender{email: s}, nil)
	r := e.request("t1", email, "critical", "exactly once-ish")
	e.pass(w1) // accepted by the server, then "killed" before NotificationSent
	e.wantTypes(r.NotificationID, req, att)
	s.wantAccepted(t, 1)

	// Restart: a new worker over a fresh handle on the same database, index rebuilt from $all.
	store2 := e.reopen()
	w2 := e.worker(store2, map[string]channels.Sender{email: s}, nil)
	if n := e.pass(w2); n != 0 { // the attempt is still within its lease
		t.Fatalf("started %d within the lease", n)
	}
	e.clock.Advance(time.Minute) // past the lease (AttemptTimeout 5s + RecordTimeout 10s)
	if n := e.pass(w2); n != 1 {
		t.Fatalf("started %d", n)
	}
	data := e.wantTypes(r.NotificationID, req, att, fail, att, sent)
	if data[2]["interrupted"] != true || data[2]["retryable"] != true || data[3]["attempt"] != 2.0 {
		t.Fatalf("events %+v", data)
	}
	_, acc := s.stats()
	if len(acc) != 2 || acc[0].ID != r.MessageID || acc[1].ID != r.MessageID {
		t.Fatalf("accepted %+v, want twice with id %s", acc, r.MessageID)
	}

	// Killed anywhere else (here: after everything was recorded), nothing is sent again.
	w3 := e.worker(e.reopen(), map[string]channels.Sender{email: s}, nil)
	e.clock.Advance(time.Hour)
	if n := e.pass(w3); n != 0 {
		t.Fatalf("started %d after the restart", n)
	}
	s.wantAccepted(t, 2)
}

func TestRestartWithNothingInFlightSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{failFirst: 1}
	w1 := e.worker(e.store, map[string]channels.Sender{email: s}, nil)
	done := e.request("t1", email, "high", "sent")
	e.pass(w1) // fails once, retrying at +1m
	e.clock.Advance(time.Minute)
	e.pass(w1)
	e.wantTypes(done.NotificationID, req, att, fail, att, sent)
	// A crash before the attempt was recorded: nothing was sent, nothing is in flight.
	s2 := &fakeSender{}
	crashing := &crashingStore{Guarded: e.store, crashType: att}
	w2 := e.worker(crashing, map[string]channels.Sender{email: s2}, nil)
	pending := e.request("t2", email, "high", "not yet")
	e.pass(w2)
	e.wantTypes(pending.NotificationID, req)
	if calls, _ := s2.stats(); calls != 0 {
		t.Fatalf("sent %d without a recorded attempt", calls)
	}
	w3 := e.worker(e.reopen(), map[string]channels.Sender{email: s2}, nil)
	e.clock.Advance(time.Hour)
	e.pass(w3)
	_, acc := s2.stats()
	if len(acc) != 1 || acc[0].ID != pending.MessageID {
		t.Fatalf("after restart accepted %+v, want only %s", acc, pending.MessageID)
	}
	if calls, _ := s.stats(); calls != 2 {
		t.Fatalf("first sender called %d times", calls)
	}
}

func TestPreferenceSuppressionIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prefs.Set(domain.Preferences{UserID: alice.UserID, Rules: []domain.Rule{{Channel: email, MinSeverity: "high"}}})
	s := &fakeSender{}
	w := e.worker(e.store, map[string]channels.Sender{email: s, slack: s}, nil)
	low := e.request("t1", email, "medium", "medium finding")
	other := e.request("t2", slack, "critical", "no slack rule")
	high := e.request("t3", email, "high", "high finding")
	if low.Decision.Outcome != domain.OutcomeSuppress {
		t.Fatalf("decision %+v", low.Decision)
	}
	e.pass(w)
	data := e.wantTypes(low.NotificationID, req, sup)
	if data[1]["reason"] != "preference" || !strings.Contains(data[1]["detail"].(string), "high") {
		t.Fatalf("suppressed %+v", data[1])
	}
	e.wantTypes(other.NotificationID, req, sup)
	e.wantTypes(high.NotificationID, req, att, sent)
	s.wantAccepted(t, 1)
}

func TestQuietHoursDefer(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.clock.Set(time.Date(2026, 1, 15, 21, 30, 0, 0, time.UTC)) // 22:30 in Berlin
	e.prefs.Set(domain.Preferences{UserID: alice.UserID, QuietHours: &domain.QuietHours{Start: "22:00", End: "07:00",
		TimeZone: "Europe/Berlin", BypassSeverity: "critical"}})
	s := &fakeSender{}
	w := e.worker(e.store, map[string]channels.Sender{email: s}, nil)
	later := e.request("t1", email, "high", "can wait")
	now := e.request("t2", email, "critical", "cannot wait")
	e.pass(w)
	data := e.wantTypes(later.NotificationID, req, def)
	if data[1]["reason"] != "quiet_hours" || data[1]["until"] != "2026-01-16T06:00:00Z" {
		t.Fatalf("deferred %+v", data[1])
	}
	e.wantTypes(now.NotificationID, req, att, sent)
	e.clock.Set(time.Date(2026, 1, 16, 5, 59, 0, 0, time.UTC))
	if n := e.pass(w); n != 0 {
		t.Fatalf("sent during quiet hours: %d", n)
	}
	e.clock.Set(time.Date(2026, 1, 16, 6, 0, 0, 0, time.UTC))
	e.pass(w)
	e.wantTypes(later.NotificationID, req, def, att, sent)
}

func TestDigestGroupsOneMessagePerWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.prefs.Set(domain.Preferences{UserID: alice.UserID, Digest: map[string]domain.DigestMode{email: {Interval: time.Hour}}})
	s := &fakeSender{}
	w := e.worker(e.store, map[string]channels.Sender{email: s}, nil)
	var items []Result
	for i, subj := range []string{"finding one", "finding two", "finding three"} {
		e.clock.Set(start.Add(time.Duration(i*15) * time.Minute)) // 10:05, 10:20, 10:35
		items = append(items, e.request("t"+subj, email, []string{"medium", "critical", "high"}[i], subj))
		if n := e.pass(w); n != 0 {
			t.Fatalf("sent %d before the window closed", n)
		}
	}
	digestID := ""
	for _, it := range items {
		data := e.wantTypes(it.NotificationID, req, sup)
		if data[1]["reason"] != "digest" || data[1]["digest_due_at"] != "2026-05-04T11:00:00Z" {
			t.Fatalf("suppressed %+v", data[1])
		}
		if digestID == "" {
			digestID = data[1]["digest_id"].(string)
		} else if data[1]["digest_id"] != digestID {
			t.Fatalf("items in different digests: %s, %s", digestID, data[1]["digest_id"])
		}
	}
	e.clock.Set(time.Date(2026, 5, 4, 11, 0, 0, 0, time.UTC))
	if n := e.pass(w); n != 1 {
		t.Fatalf("started %d, want the one digest", n)
	}
	data := e.wantTypes(digestID, req, att, sent)
	if data[0]["kind"] != "digest" || data[0]["severity"] != "critical" || len(data[0]["digest_items"].([]any)) != 3 {
		t.Fatalf("digest %+v", data[0])
	}
	_, acc := s.stats()
	if len(acc) != 1 || acc[0].ID != domain.MessageIDOf(digestID) {
		t.Fatalf("accepted %+v", acc)
	}
	for _, subj := range []string{"finding one", "finding two", "finding three", "3 notifications"} {
		if !strings.Contains(acc[0].Text+acc[0].Subject, subj) {
			t.Errorf("digest does not mention %q:\n%s\n%s", subj, acc[0].Subject, acc[0].Text)
		}
	}
	// A message after the window closed goes to the next window; a restart sends nothing twice.
	e.clock.Set(time.Date(2026, 5, 4, 11, 10, 0, 0, time.UTC))
	next := e.request("late", email, "high", "finding four")
	nd := e.wantTypes(next.NotificationID, req, sup)
	if nd[1]["digest_id"] == digestID || nd[1]["digest_due_at"] != "2026-05-04T12:00:00Z" {
		t.Fatalf("late item %+v", nd[1])
	}
	w2 := e.worker(e.reopen(), map[string]channels.Sender{email: s}, nil)
	if n := e.pass(w2); n != 0 {
		t.Fatalf("restart started %d", n)
	}
	if _, digests := w2.Pending(); digests != 1 {
		t.Fatalf("open digests after restart: %d", digests)
	}
	e.clock.Set(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC))
	e.pass(w2)
	if _, acc := s.stats(); len(acc) != 2 || !strings.Contains(acc[1].Text, "finding four") || strings.Contains(acc[1].Text, "finding one") {
		t.Fatalf("second digest %+v", acc)
	}
}

func TestBackoffIsCappedAndJitterDeterministic(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	w := e.worker(e.store, nil, func(c *WorkerConfig) { c.BaseBackoff, c.MaxBackoff = time.Second, 10*time.Second })
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second} {
		if got := w.Backoff("m", i+1); got != want {
			t.Errorf("attempt %d: %s, want %s", i+1, got, want)
		}
	}
	j := e.worker(e.store, nil, func(c *WorkerConfig) { c.BaseBackoff, c.MaxBackoff, c.Jitter = time.Second, 10*time.Second, 0.5 })
	a, b := j.Backoff("m1", 3), j.Backoff("m1", 3)
	if a != b || a > 4*time.Second || a < 2*time.Second {
		t.Fatalf("jittered backoff %s, %s", a, b)
	}
	if j.Backoff("m1", 3) == j.Backoff("m2", 3) && j.Backoff("m3", 3) == j.Backoff("m4", 3) {
		t.Fatal("jitter does not spread different messages")
	}
}

func TestRunDeliversWithRealClock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := &fakeSender{}
	w, err := NewWorker(WorkerConfig{Store: e.store, Senders: map[string]channels.Sender{email: s}, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(e.store, nil, nil)
	stop := eventstest.Start(t, context.Background(), w.Run)
	r, err := svc.Request(context.Background(), Request{Trigger: "run", Recipient: alice, Channel: email, Kind: channels.KindKEVAlert, Severity: "high", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the Run loop to send", func() bool { _, acc := s.stats(); return len(acc) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.wantTypes(r.NotificationID, req, att, sent)
}

func TestWorkerConfigValidate(t *testing.T) {
	t.Parallel()
	err := WorkerConfig{MaxAttempts: -1, BaseBackoff: time.Hour, MaxBackoff: time.Minute, Jitter: 1,
		Concurrency: map[string]int{"x": 0}, Senders: map[string]channels.Sender{"y": nil}}.Validate()
	for _, want := range []string{"needs a store", "negative", "base backoff", "jitter", "concurrency of x", "sender of y"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %q", err, want)
		}
	}
}

func TestRequestValidationAppendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := e.svc.Request(context.Background(), Request{Trigger: "x", Recipient: alice, Channel: email, Kind: "kev_alert", Severity: "urgent", Text: "t"})
	var re *domain.RuleError
	if err == nil || !asRule(err, &re) || re.Path != "/severity" {
		t.Fatalf("err %v", err)
	}
	if head, _ := e.store.HeadPosition(context.Background()); head != 0 {
		t.Fatalf("appended up to %d", head)
	}
}

// SetSenders swaps a channel's sender while an attempt is in flight on the old one: that attempt
// finishes there, the next attempts go to the new one; a channel added later gets its sends, a
// channel removed dead-letters, and a nil sender is refused.
func TestSetSendersSwapsBetweenAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := &fakeSender{block: make(chan struct{}), started: make(chan string, 1)}
	w := e.worker(e.store, map[string]channels.Sender{email: old}, func(c *WorkerConfig) { c.AttemptTimeout = time.Minute })
	first := e.request("a", email, "high", "mail 1")
	if n, err := w.DispatchDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("started %d, %v", n, err)
	}
	<-old.started // in flight on the old sender

	swapped := &fakeSender{}
	sms := &fakeSender{}
	if err := w.SetSenders(map[string]channels.Sender{email: swapped, channels.ChannelSMS: nil}); err == nil {
		t.Fatal("a nil sender accepted")
	}
	if err := w.SetSenders(map[string]channels.Sender{email: swapped, channels.ChannelSMS: sms}); err != nil {
		t.Fatal(err)
	}
	close(old.block)
	w.Wait()
	e.wantTypes(first.NotificationID, req, att, sent)
	old.wantAccepted(t, 1)

	second := e.request("b", email, "high", "mail 2")
	text := e.request("c", channels.ChannelSMS, "high", "sms 1")
	e.pass(w)
	e.wantTypes(second.NotificationID, req, att, sent)
	e.wantTypes(text.NotificationID, req, att, sent)
	swapped.wantAccepted(t, 1)
	sms.wantAccepted(t, 1)
	old.wantAccepted(t, 1)

	if err := w.SetSenders(map[string]channels.Sender{email: swapped}); err != nil {
		t.Fatal(err)
	}
	gone := e.request("d", channels.ChannelSMS, "high", "sms 2")
	e.pass(w)
	e.wantTypes(gone.NotificationID, req, dead)
	sms.wantAccepted(t, 1)
}

// SetSenders may run while the worker dispatches (run with -race).
func TestSetSendersWhileRunning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := &fakeSender{}, &fakeSender{}
	w := e.worker(e.store, map[string]channels.Sender{email: a}, func(c *WorkerConfig) { c.Now = time.Now; c.PollInterval = 10 * time.Millisecond })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for i := range 20 {
		s := channels.Sender(a)
		if i%2 == 1 {
			s = b
		}
		if err := w.SetSenders(map[string]channels.Sender{email: s}); err != nil {
			t.Fatal(err)
		}
		e.request(fmt.Sprint("t", i), email, "high", fmt.Sprint("mail ", i))
	}
	eventually(t, "every mail sent by one sender or the other", func() bool {
		_, x := a.stats()
		_, y := b.stats()
		return len(x)+len(y) == 20
	})
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
