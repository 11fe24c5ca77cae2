package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/socplatform/soc/commands/notifications/channels"
)

// breaches opens n findings owned by alice (whose lead is lee) on one asset, each past its
// deadline with SLABreached recorded, and sends the planner one SLA breach command per finding.
func (e *plannerEnv) breaches(n int, label string) {
	e.t.Helper()
	asset := e.asset("web-"+label, "production", "platform")
	scan := uuid.NewString()
	due := e.clock.Now().Add(-26 * time.Hour).UTC().Truncate(time.Second)
	for i := range n {
		f := e.finding(scan, asset, "high", fmt.Sprintf("Finding %s-%02d", label, i), "alice@example.com")
		e.setDue(f, due)
		e.add(f, "SLABreached", "", map[string]any{"due_at": due.Format(time.RFC3339), "breached_at": due.Format(time.RFC3339),
			"severity": "high", "status": "open", "owner": "alice@example.com"})
		e.mustHandle("breach-"+f, CmdSLABreach, map[string]any{"finding_id": f, "due_at": due})
	}
}

// slaSenders are the channels the planner's escalations go to in these tests.
func slaSenders() (map[string]channels.Sender, *fakeSender) {
	mail := &fakeSender{}
	return map[string]channels.Sender{email: mail, slack: &fakeSender{}, teams: &fakeSender{}, ws: &fakeSender{}}, mail
}

func TestSLABreachesCoalesceIntoOneDigestPerRecipientAndWindow(t *testing.T) {
	e := newPlannerEnv(t)
	e.clock.Set(start.Truncate(time.Minute).Add(10 * time.Second)) // early in a window of one minute
	senders, mail := slaSenders()

	e.breaches(50, "a")
	w := e.worker(e.store, senders, nil)
	e.pass(w)
	mail.wantAccepted(t, 0) // the window is still open: nothing is sent per finding

	// A process that restarts mid-window loses nothing: a new worker reads the window back.
	e.clock.Advance(time.Minute)
	w = e.worker(e.reopen(), senders, nil)
	e.pass(w)
	mail.wantAccepted(t, 1)
	_, got := mail.stats()
	m := got[0]
	if m.To.UserID != "lee" || m.Kind != "digest" || !strings.Contains(m.Subject, "SLA breached: 50 findings") {
		t.Fatalf("digest to %q, kind %q, subject %q; want lee's digest of 50 breaches", m.To.UserID, m.Kind, m.Subject)
	}
	for i := range 50 {
		if name := fmt.Sprintf("Finding a-%02d on web-a", i); !strings.Contains(m.Text, name) {
			t.Fatalf("the digest does not name %q:\n%s", name, m.Text)
		}
	}
	// The shared channels also get one message, not fifty.
	for _, ch := range []string{slack, teams} {
		senders[ch].(*fakeSender).wantAccepted(t, 1)
	}

	// The next window's breaches make the next digest.
	e.breaches(3, "b")
	e.clock.Advance(time.Minute)
	e.pass(w)
	mail.wantAccepted(t, 2)
	_, got = mail.stats()
	if s := got[1].Subject; !strings.Contains(s, "SLA breached: 3 findings") || strings.Contains(got[1].Text, "Finding a-") {
		t.Fatalf("second digest %q lists the first window's breaches or not its own:\n%s", s, got[1].Text)
	}
}

func TestSLABreachesUncoalescedWhenTheWindowIsOff(t *testing.T) {
	e := newPlannerEnvWith(t, func(c *PlannerConfig) { c.SLADigestWindow = -1 })
	senders, mail := slaSenders()
	e.breaches(3, "a")
	e.pass(e.worker(e.store, senders, nil))
	mail.wantAccepted(t, 3)
	if _, got := mail.stats(); got[0].Kind != channels.KindSLABreach || got[0].Subject != "" {
		t.Fatalf("an escalation on its own is kind %q with subject %q; want sla_breach rendered by the templates", got[0].Kind, got[0].Subject)
	}
}
