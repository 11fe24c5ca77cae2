package reporting_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/query-api/reporting"
	"github.com/socplatform/soc/schemas/contracts"
)

// clock is a controlled clock: the scheduler fires what is due at its time, no test waits for
// a real cron minute.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// notifier records what the scheduler delivers (the notification context's side is tested with
// a real SMTP server in cmd/soc); failDirectory fails Addresses.
type notifier struct {
	mu            sync.Mutex
	sent          []reporting.Message
	failDirectory error
}

func (n *notifier) Addresses(_ context.Context, users, teams []string) ([]string, []string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.failDirectory != nil {
		return nil, nil, n.failDirectory
	}
	var addrs, unknown []string
	for _, u := range users {
		if u == "ghost" {
			unknown = append(unknown, u)
		} else {
			addrs = append(addrs, u+"@example.org")
		}
	}
	for _, t := range teams {
		addrs = append(addrs, "lead-"+t+"@example.org", "rita@example.org") // rita twice: sent once
	}
	return addrs, unknown, nil
}

func (n *notifier) Send(_ context.Context, m reporting.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, m)
	return nil
}

func (n *notifier) messages() []reporting.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.sent)
}

var paris = func() *time.Location {
	l, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return l
}()

// scheduled is a harness whose nodes run on a controlled clock and deliver to a notifier.
func scheduled(t *testing.T, start time.Time, maxAttachment int64) (*harness, *clock, *notifier) {
	t.Helper()
	c, n := &clock{t: start}, &notifier{}
	h := newHarness(t, &fakeAnalytics{})
	h.stop() // restarted below with the clock and the notifier
	h.configure = func(cfg *reporting.Config) {
		cfg.Now, cfg.Notifier, cfg.BaseURL, cfg.MaxAttachment = c.Now, n, "https://soc.example.org/", maxAttachment
	}
	h.start()
	return h, c, n
}

// saveSchedule creates a schedule through the API as as.
func (h *harness) saveSchedule(as string, body map[string]any) reporting.Schedule {
	h.t.Helper()
	a := h.do(as, "POST", "/v1/report-schedules", body)
	if a.status != http.StatusCreated {
		h.t.Fatalf("POST /v1/report-schedules: %d %s", a.status, a.body)
	}
	var sc reporting.Schedule
	a.json(h.t, &sc)
	return sc
}

// requested returns the ReportRequested events of a schedule, from the store.
func (h *harness) requested(scheduleID string) []contracts.ReportRequested {
	h.t.Helper()
	evs, err := h.store.QueryEvents(context.Background(), events.EventQuery{Types: []string{contracts.TypeReportRequested}, Limit: events.MaxQueryLimit})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []contracts.ReportRequested
	for _, e := range evs {
		var d contracts.ReportRequested
		if err := json.Unmarshal(e.Data, &d); err != nil {
			h.t.Fatal(err)
		}
		if d.ScheduleID == scheduleID {
			out = append(out, d)
		}
	}
	return out
}

// fired fires what is due on the current node and checks that the schedule has requested want
// reports in all. The node's own scheduler loop may fire the same time concurrently: whichever
// appends first wins, and the other's append conflicts, so the count is exact either way.
func (h *harness) fired(svc *reporting.Service, scheduleID string, want int) []contracts.ReportRequested {
	h.t.Helper()
	if _, err := svc.FireDue(context.Background()); err != nil {
		h.t.Fatalf("FireDue: %v", err)
	}
	got := h.requested(scheduleID)
	if len(got) != want {
		h.t.Fatalf("%d reports requested, want %d: %+v", len(got), want, got)
	}
	return got
}

func TestCronExpressions(t *testing.T) {
	for _, bad := range []string{"* * * *", "0 7 * * * *", "61 * * * *", "0 25 * * *", "@daily", "@every 1h", "CRON_TZ=UTC 0 7 * * *", "0 7 * * funday"} {
		if _, err := reporting.ParseCron(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	for _, good := range []string{"0 7 * * 1", "*/15 8-18 * * mon-fri", "0 6 1 */3 *"} {
		if _, err := reporting.ParseCron(good); err != nil {
			t.Errorf("%q: %v", good, err)
		}
	}
	h := newHarness(t, &fakeAnalytics{})
	ok := map[string]any{"name": "Weekly", "template": "executive", "format": "pdf", "cron": "0 7 * * 1",
		"recipients": map[string]any{"emails": []string{"ciso@example.org"}}}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		name string
		body map[string]any
		want string
	}{
		{"bad cron", with("cron", "0 7 * *"), "/cron"},
		{"cron out of range", with("cron", "0 24 * * *"), "/cron"},
		{"time zone", with("time_zone", "Mars/Olympus"), "/time_zone"},
		{"no template", with("template", "nope"), "/template"},
		{"no cron", with("cron", nil), "/cron"},
		{"no recipients", with("recipients", map[string]any{}), "/recipients"},
		{"bad address", with("recipients", map[string]any{"emails": []string{"ciso at example.org"}}), "/recipients/emails/0"},
		{"delivery", with("delivery", "fax"), "/delivery"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := h.do("admin", "POST", "/v1/report-schedules", c.body)
			if a.status != http.StatusBadRequest {
				t.Fatalf("%d %s", a.status, a.body)
			}
			if d := problemOf(t, a); d.Field != c.want && !slices.Contains(paramNames(d), c.want) {
				t.Fatalf("failing field %q %v, want %s: %s", d.Field, paramNames(d), c.want, a.body)
			}
		})
	}
	if len(h.svc.Schedules()) != 0 {
		t.Fatal("a refused schedule was saved")
	}
}

// TestNextRunAcrossDST: 07:00 in Paris is 06:00 UTC before the spring change and 05:00 after;
// 02:30 does not exist on the spring-forward day (skipped), and happens twice on the fall-back
// day (fired once).
func TestNextRunAcrossDST(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct{ expr, after, want string }{
		{"0 7 * * *", "2026-03-28T06:00:00Z", "2026-03-29T05:00:00Z"}, // Saturday 07:00 CET fired; Sunday 07:00 CEST
		{"0 7 * * *", "2026-03-27T12:00:00Z", "2026-03-28T06:00:00Z"},
		{"30 2 * * *", "2026-03-28T01:30:00Z", "2026-03-30T00:30:00Z"}, // no 02:30 on 29 March
		{"30 2 * * *", "2026-10-24T12:00:00Z", "2026-10-25T00:30:00Z"}, // the first 02:30 (CEST)
		{"30 2 * * *", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}, // not the second (CET)
		{"0 7 * * 1", "2026-10-25T12:00:00Z", "2026-10-26T06:00:00Z"},
	} {
		got, err := reporting.NextRun(c.expr, paris, at(c.after))
		if err != nil || !got.Equal(at(c.want)) {
			t.Errorf("%s after %s: %s (%v), want %s", c.expr, c.after, got.UTC(), err, c.want)
		}
	}
}

// TestScheduleFiresOncePerFireTime: a fire creates exactly one ReportRequested, whatever
// restarts or second nodes happen, and a missed run fires once.
func TestScheduleFiresOncePerFireTime(t *testing.T) {
	start := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC) // Friday
	h, c, n := scheduled(t, start, reporting.DefaultMaxAttachment)
	sc := h.saveSchedule("admin", map[string]any{"name": "Daily", "template": "executive", "format": "pdf", "cron": "0 7 * * *",
		"time_zone": "Europe/Paris", "recipients": map[string]any{"emails": []string{"ciso@example.org"}}})
	if want := time.Date(2026, 3, 28, 6, 0, 0, 0, time.UTC); !sc.NextRun.Equal(want) || !sc.Enabled || sc.Owner != "user:admin" {
		t.Fatalf("saved %+v, want next run %s", sc, want)
	}
	h.fired(h.svc, sc.ID, 0) // nothing is due yet

	c.set(time.Date(2026, 3, 28, 6, 0, 0, 0, time.UTC)) // Saturday 07:00 in Paris
	first, stopFirst := h.svc, h.stop
	h.start() // a second node over the same store, started before the fire
	// Each node fires; whichever appends second conflicts on the report's stream (the id is
	// derived from the schedule and the fire time), as would a node that crashed between the
	// append and its state update and fires again.
	got := h.fired(h.svc, sc.ID, 1)
	h.fired(first, sc.ID, 1)
	h.fired(h.svc, sc.ID, 1)
	if !got[0].ScheduledFor.Equal(c.Now()) || got[0].RequestedBy != "user:admin" || !*got[0].AllTeams {
		t.Fatalf("requested %+v", got)
	}
	waitDelivered(t, h, got[0].ReportID) // by whichever node appended it
	stopFirst()

	// A restart after the report was requested, generated and delivered: nothing again.
	h.restart()
	h.fired(h.svc, sc.ID, 1)
	if r, err := h.svc.Report(got[0].ReportID, admin); err != nil || r.Status != reporting.StatusGenerated || len(r.Deliveries) != 1 {
		t.Fatalf("after a restart: %+v %v", r, err)
	}
	if got := len(n.messages()); got != 1 {
		t.Fatalf("%d deliveries, want 1", got)
	}

	// Three days without a node: one report, for the latest missed time (Tuesday 07:00 CEST).
	h.stop()
	c.set(time.Date(2026, 3, 31, 9, 0, 0, 0, time.UTC))
	h.start()
	got = h.fired(h.svc, sc.ID, 2)
	if !got[1].ScheduledFor.Equal(time.Date(2026, 3, 31, 5, 0, 0, 0, time.UTC)) {
		t.Fatalf("after the gap: %+v", got[1])
	}
	if s, _ := h.svc.Schedule(sc.ID); !s.LastScheduledFor.Equal(got[1].ScheduledFor) {
		t.Fatalf("last scheduled for %s", s.LastScheduledFor)
	}
}

// TestSchedulerLoopFiresAMissedRunAtStart: the node's own scheduler (no FireDue from the test)
// fires a run missed while it was down, once.
func TestSchedulerLoopFiresAMissedRunAtStart(t *testing.T) {
	h, c, n := scheduled(t, time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC), reporting.DefaultMaxAttachment)
	sc := h.saveSchedule("admin", map[string]any{"name": "Hourly", "template": "findings", "format": "csv", "cron": "0 * * * *",
		"recipients": map[string]any{"users": []string{"rita"}}})
	h.stop()
	c.set(time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC))
	h.start()
	deadline := time.Now().Add(30 * time.Second) // a bound on a hang, not a timing assertion
	for len(n.messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not fire the missed run")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := h.requested(sc.ID); len(got) != 1 || !got[0].ScheduledFor.Equal(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)) {
		t.Fatalf("requested %+v", got)
	}
}

func TestDisabledScheduleNeverFires(t *testing.T) {
	h, c, _ := scheduled(t, time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC), reporting.DefaultMaxAttachment)
	sc := h.saveSchedule("admin", map[string]any{"name": "Off", "template": "executive", "format": "pdf", "cron": "*/5 * * * *",
		"enabled": false, "recipients": map[string]any{"emails": []string{"ciso@example.org"}}})
	if !sc.NextRun.IsZero() {
		t.Fatalf("a disabled schedule has a next run: %s", sc.NextRun)
	}
	c.set(time.Date(2026, 5, 9, 6, 0, 0, 0, time.UTC))
	h.fired(h.svc, sc.ID, 0)
	h.restart()
	h.fired(h.svc, sc.ID, 0)
	// Enabled again: the runs missed while disabled are not caught up; the next one fires.
	a := h.do("admin", "PUT", "/v1/report-schedules/"+sc.ID, map[string]any{"enabled": true})
	if a.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", a.status, a.body)
	}
	h.fired(h.svc, sc.ID, 0)
	c.set(time.Date(2026, 5, 9, 6, 5, 0, 0, time.UTC))
	h.fired(h.svc, sc.ID, 1)
	if a := h.do("admin", "DELETE", "/v1/report-schedules/"+sc.ID, nil); a.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", a.status, a.body)
	}
	c.set(time.Date(2026, 5, 9, 7, 0, 0, 0, time.UTC))
	h.fired(h.svc, sc.ID, 1)
}

// TestScheduleCoversItsOwnersScope: a schedule saved by a red remediator requests its reports
// as that remediator, so they hold red's findings only.
func TestScheduleCoversItsOwnersScope(t *testing.T) {
	h, c, n := scheduled(t, time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC), reporting.DefaultMaxAttachment)
	// Remediators may not manage schedules at the router (reports:manage), but the service
	// takes the owner from whoever saves it: mounted bare here, rita saves one.
	sc := h.saveSchedule("rita", map[string]any{"name": "Mine", "template": "findings", "format": "csv", "cron": "0 8 * * *",
		"recipients": map[string]any{"emails": []string{"rita@example.org"}}})
	c.set(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC))
	req := h.fired(h.svc, sc.ID, 1)
	if req[0].RequestedBy != "user:rita" || !slices.Equal(req[0].Teams, []string{"red"}) || *req[0].AllTeams {
		t.Fatalf("requested %+v", req)
	}
	r := h.await("rita", req[0].ReportID)
	body := h.file("rita", r.ID).body
	if bytes.Contains(body, []byte("finding of blue")) || !bytes.Contains(body, []byte("finding of red")) {
		t.Fatalf("the report is not red's:\n%s", body)
	}
	waitDelivered(t, h, r.ID)
	if m := n.messages(); len(m) != 1 || m[0].Attachment == nil || !bytes.Equal(m[0].Attachment.Data, body) {
		t.Fatalf("delivered %+v", m)
	}
}

// waitDelivered waits for a report's ReportDelivered in the store.
func waitDelivered(t *testing.T, h *harness, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a bound on a hang, not a timing assertion
	for !slices.Contains(types(h.streamEvents(id)), contracts.TypeReportDelivered) {
		if time.Now().After(deadline) {
			t.Fatalf("report %s not delivered: %v", id, types(h.streamEvents(id)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDeliveryAttachmentOrLink: e-mail recipients get the file attached when it is small enough,
// else a link; chat channels get a link; an unknown user is recorded as failed; the outcome is
// ReportDelivered on the report's stream, once.
func TestDeliveryAttachmentOrLink(t *testing.T) {
	for _, c := range []struct {
		name     string
		max      int64
		wantMode contracts.ReportDelivery
	}{{"small file", reporting.DefaultMaxAttachment, contracts.ReportDeliveryAttachment}, {"large file", 16, contracts.ReportDeliveryLink}} {
		t.Run(c.name, func(t *testing.T) {
			h, clk, n := scheduled(t, time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC), c.max)
			sc := h.saveSchedule("admin", map[string]any{"name": "Daily", "template": "executive", "format": "pdf", "cron": "0 8 * * *",
				"recipients": map[string]any{"users": []string{"rita", "ghost"}, "teams": []string{"red"}, "channels": []string{"slack"}}})
			clk.set(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC))
			id := h.fired(h.svc, sc.ID, 1)[0].ReportID
			h.await("admin", id)
			waitDelivered(t, h, id)
			r, err := h.svc.Report(id, admin)
			if err != nil {
				t.Fatal(err)
			}
			file, err := os.ReadFile(reportPath(h.dir, id, "pdf"))
			if err != nil {
				t.Fatal(err)
			}
			link := "https://soc.example.org/v1/reports/" + id + "/file"
			var emails []string
			for _, m := range n.messages() {
				if !strings.Contains(m.Text, link) || m.Link != link || !strings.Contains(m.Subject, "Daily") {
					t.Errorf("message %+v has no link to the file", m)
				}
				switch m.Channel {
				case "email":
					emails = append(emails, m.To)
					if got := m.Attachment != nil; got != (c.wantMode == contracts.ReportDeliveryAttachment) {
						t.Errorf("attachment %v for %s", got, c.wantMode)
					}
					if m.Attachment != nil && (!bytes.Equal(m.Attachment.Data, file) || m.Attachment.ContentType != "application/pdf") {
						t.Errorf("the attachment is not the file")
					}
				case "slack":
					if m.Attachment != nil {
						t.Error("a chat channel got an attachment")
					}
				default:
					t.Errorf("channel %s", m.Channel)
				}
			}
			if want := []string{"lead-red@example.org", "rita@example.org"}; !slices.Equal(emails, want) {
				t.Errorf("e-mailed %v, want %v", emails, want)
			}
			var modes []string
			for _, d := range r.Deliveries {
				modes = append(modes, string(d.Channel)+" "+d.Recipient+" "+string(d.Mode)+" "+d.Error)
			}
			want := []string{`email ghost link no e-mail address for "ghost"`, "email lead-red@example.org " + string(c.wantMode) + " ",
				"email rita@example.org " + string(c.wantMode) + " ", "slack slack link "}
			if !slices.Equal(modes, want) {
				t.Errorf("recorded %q, want %q", modes, want)
			}
			h.restart() // delivered: a restart sends nothing again
			h.fired(h.svc, sc.ID, 1)
			if got := len(n.messages()); got != 3 {
				t.Errorf("%d messages after a restart, want 3", got)
			}
		})
	}
}

// TestDeliveryResumesAfterARestart: a node stopped after generating a scheduled report and
// before recording its delivery (here: its directory was unreachable) delivers it at its next
// start, once.
func TestDeliveryResumesAfterARestart(t *testing.T) {
	h, c, n := scheduled(t, time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC), reporting.DefaultMaxAttachment)
	n.failDirectory = errors.New("directory down")
	sc := h.saveSchedule("admin", map[string]any{"name": "Daily", "template": "findings", "format": "csv", "cron": "0 8 * * *",
		"recipients": map[string]any{"users": []string{"rita"}}})
	c.set(time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC))
	id := h.fired(h.svc, sc.ID, 1)[0].ReportID
	h.await("admin", id)
	h.stop() // the workers have returned: the failed delivery recorded nothing
	if got := types(h.streamEvents(id)); slices.Contains(got, contracts.TypeReportDelivered) || len(n.messages()) != 0 {
		t.Fatalf("events %v, %d messages", got, len(n.messages()))
	}
	n.mu.Lock()
	n.failDirectory = nil
	n.mu.Unlock()
	h.start()
	waitDelivered(t, h, id)
	h.restart()
	h.fired(h.svc, sc.ID, 1)
	if got := n.messages(); len(got) != 1 || got[0].To != "rita@example.org" {
		t.Fatalf("delivered %+v", got)
	}
	if got := types(h.streamEvents(id)); !slices.Equal(got, []string{contracts.TypeReportRequested, contracts.TypeReportGenerated, contracts.TypeReportDelivered}) {
		t.Fatalf("events %v", got)
	}
}

func TestSchedulesAPI(t *testing.T) {
	h, _, _ := scheduled(t, time.Date(2026, 5, 4, 6, 0, 0, 0, time.UTC), reporting.DefaultMaxAttachment)
	sc := h.saveSchedule("admin", map[string]any{"name": "B", "template": "executive", "format": "pdf", "cron": "0 7 * * 1",
		"time_zone": "Europe/Paris", "delivery": "link", "recipients": map[string]any{"emails": []string{"ciso@example.org"}}})
	h.saveSchedule("admin", map[string]any{"name": "A", "template": "findings", "format": "csv", "cron": "0 7 * * *",
		"recipients": map[string]any{"teams": []string{"red"}}})
	var l struct{ Items []reporting.Schedule }
	h.do("admin", "GET", "/v1/report-schedules", nil).json(t, &l)
	if len(l.Items) != 2 || l.Items[0].Name != "A" || l.Items[1].Delivery != "link" || l.Items[1].TimeZone != "Europe/Paris" {
		t.Fatalf("%+v", l.Items)
	}
	a := h.do("admin", "PUT", "/v1/report-schedules/"+sc.ID, map[string]any{"cron": "0 9 * * 1"})
	var got reporting.Schedule
	a.json(t, &got)
	if a.status != http.StatusOK || got.Cron != "0 9 * * 1" || got.Name != "B" || got.Version != 2 ||
		!got.NextRun.Equal(time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC)) { // Monday 09:00 in Paris
		t.Fatalf("PUT: %d %+v", a.status, got)
	}
	if a := h.do("admin", "PUT", "/v1/report-schedules/"+sc.ID, map[string]any{"cron": "every monday"}); a.status != http.StatusBadRequest ||
		problemOf(t, a).Field != "/cron" {
		t.Fatalf("bad cron: %d %s", a.status, a.body)
	}
	h.restart()
	if got, err := h.svc.Schedule(sc.ID); err != nil || got.Cron != "0 9 * * 1" {
		t.Fatalf("after a restart: %+v %v", got, err)
	}
	if a := h.do("admin", "DELETE", "/v1/report-schedules/"+sc.ID, nil); a.status != http.StatusNoContent {
		t.Fatalf("DELETE: %d", a.status)
	}
	if a := h.do("admin", "GET", "/v1/report-schedules/"+sc.ID, nil); a.status != http.StatusNotFound {
		t.Fatalf("GET deleted: %d", a.status)
	}
}
