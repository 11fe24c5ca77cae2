package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/socplatform/soc/commands/bus"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/problem"
)

// plannerEnv is a guarded SQLite store holding a realistic import, a directory and a planner.
type plannerEnv struct {
	*env
	dir     *Directory
	planner *Planner
	bus     *bus.Bus // the planner's commands registered
	seen    int64    // global position up to which requests were taken
}

const (
	sms     = channels.ChannelSMS
	teams   = channels.ChannelTeams
	webhook = channels.ChannelWebhook
	ws      = ChannelWebSocket
)

func plannerDirectory(t *testing.T) *Directory {
	t.Helper()
	d, err := NewDirectory(Directory{
		Users: []User{
			{ID: "alice", Name: "Alice", Email: "alice@example.com", Lead: "lee"},                                     // email + websocket
			{ID: "bob", Name: "Bob", Email: "bob@example.com", Phone: "+14155550101", Channels: []string{email, sms}}, // email + sms
			{ID: "carol", Name: "Carol"}, // websocket only
			{ID: "lee", Name: "Lee", Email: "lee@example.com"},
			{ID: "sec", Name: "Security desk", Email: "sec@example.com", Channels: []string{email}},
		},
		Teams:    []Team{{Name: "platform", Members: []string{"carol", "bob"}, Lead: "lee"}},
		Fallback: []string{"sec"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newPlannerEnv(t *testing.T, chans ...string) *plannerEnv {
	t.Helper()
	return newPlannerEnvWith(t, nil, chans...)
}

// newPlannerEnvWith is newPlannerEnv with mod applied to the planner's configuration.
func newPlannerEnvWith(t *testing.T, mod func(*PlannerConfig), chans ...string) *plannerEnv {
	t.Helper()
	e := &plannerEnv{env: newEnv(t), dir: plannerDirectory(t)}
	if chans == nil {
		chans = []string{email, sms, slack, teams} // no webhook configured
	}
	cfg := PlannerConfig{Store: e.store, Querier: e.store, Service: e.svc, Dir: e.dir, Channels: chans,
		BaseURL: "https://soc.example.com/", Now: e.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if mod != nil {
		mod(&cfg)
	}
	p, err := NewPlanner(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.planner = p
	if e.bus, err = bus.New(testsupport.CommandSchemas(t)); err != nil {
		t.Fatal(err)
	}
	if err := RegisterCommands(e.bus, p); err != nil {
		t.Fatal(err)
	}
	return e
}

// dispatch sends a raw command through the bus to the planner.
func (e *plannerEnv) dispatch(id, typ, payload string) error {
	return e.bus.Dispatch(context.Background(), id, typ, json.RawMessage(payload))
}

func (e *plannerEnv) add(stream, typ, corr string, data any) {
	e.t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Append(context.Background(), stream, events.Any, []events.Envelope{{Type: typ, Data: b, CorrelationID: corr}}); err != nil {
		e.t.Fatalf("append %s to %s: %v", typ, stream, err)
	}
}

func (e *plannerEnv) asset(name, environment, team string) string {
	e.t.Helper()
	id := events.NewStreamID("assets", "asset")
	e.add(id, "AssetRegistered", "", map[string]any{"kind": "host", "name": name,
		"identifiers": map[string]any{"hostnames": []string{name + ".example.com"}}, "environment": environment, "owner_team": team})
	return id
}

// finding opens a finding on asset as part of scan (correlation id = scan id), optionally owned.
func (e *plannerEnv) finding(scan, asset, severity, title, owner string, cves ...string) string {
	e.t.Helper()
	id := events.NewStreamID("vulns", "finding")
	fp := "fp-" + id
	d := map[string]any{"asset_id": asset, "scope": asset + "|nessus", "identity_key": asset + "|nessus|" + fp,
		"fingerprint": fp, "scan_id": scan, "format": "nessus", "title": title, "severity": severity,
		"seen_at": start.Format(time.RFC3339), "location": map[string]any{"host": "10.0.0.5", "port": 443, "protocol": "tcp"}}
	if len(cves) > 0 {
		d["cves"] = cves
	}
	e.add(id, "FindingOpened", scan, d)
	if owner != "" {
		e.add(id, "FindingAssigned", scan, map[string]any{"owner": owner})
	}
	return id
}

// newDueScenario is the import scenario with its critical finding due a week after start, the
// requests so far taken.
func newDueScenario(t *testing.T) (*plannerEnv, importScenario, time.Time) {
	e := newPlannerEnv(t)
	s := e.importScenario()
	due := start.Add(7 * 24 * time.Hour)
	e.setDue(s.crit, due)
	e.requests()
	return e, s, due
}

func (e *plannerEnv) setDue(finding string, due time.Time) {
	e.t.Helper()
	e.add(finding, "FindingDueDateSet", "", map[string]any{"due_at": due.Format(time.RFC3339)})
}

func (e *plannerEnv) scanStarted(scan string) {
	e.t.Helper()
	e.add("scans-import-"+scan, "ScanImportStarted", scan, map[string]any{"scan_id": scan, "format": "nessus",
		"scanner_name": "Nessus", "findings_total": 6, "assets_total": 2})
}

func (e *plannerEnv) scanCompleted(scan string) {
	e.t.Helper()
	e.add("scans-import-"+scan, "ScanImportCompleted", scan, map[string]any{"scan_id": scan, "format": "nessus",
		"findings_total": 6, "by_severity": map[string]int{"critical": 1, "high": 3, "medium": 1, "low": 1, "info": 0},
		"new": 6, "unchanged": 0, "reopened": 1, "resolved": 0, "closed": 0, "skipped": 0, "assets_discovered": 0, "assets_matched": 2})
}

// requests returns the NotificationRequested events recorded since the last call.
func (e *plannerEnv) requests() []domain.Requested {
	e.t.Helper()
	var out []domain.Requested
	for {
		evs, err := e.store.ReadAll(context.Background(), e.seen, 500)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(evs) == 0 {
			return out
		}
		for _, ev := range evs {
			e.seen = ev.GlobalPosition
			if ev.Type != req {
				continue
			}
			var r domain.Requested
			if err := json.Unmarshal(ev.Data, &r); err != nil {
				e.t.Fatal(err)
			}
			out = append(out, r)
		}
	}
}

func (e *plannerEnv) handle(id, typ string, payload any) error {
	e.t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.dispatch(id, typ, string(b))
}

func (e *plannerEnv) mustHandle(id, typ string, payload any) {
	e.t.Helper()
	if err := e.handle(id, typ, payload); err != nil {
		e.t.Fatalf("%s: %v", typ, err)
	}
}

// mustPlanNothing handles a command that must request no notification; what names the case.
func (e *plannerEnv) mustPlanNothing(what, id, typ string, payload any) {
	e.t.Helper()
	e.mustHandle(id, typ, payload)
	if got := e.requests(); len(got) != 0 {
		e.t.Fatalf("%s: %v", what, whos(got))
	}
}

// who names a request: "<recipient user id or name>/<channel>".
func who(r domain.Requested) string {
	return cmpOr(r.Recipient.UserID, r.Recipient.Name) + "/" + r.Channel
}

func whos(rs []domain.Requested) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, who(r))
	}
	slices.Sort(out)
	return out
}

func wantWhos(t *testing.T, what string, rs []domain.Requested, want ...string) map[string]domain.Requested {
	t.Helper()
	slices.Sort(want)
	if got := whos(rs); !slices.Equal(got, want) {
		t.Fatalf("%s: requests\n got %v\nwant %v", what, got, want)
	}
	m := map[string]domain.Requested{}
	for _, r := range rs {
		m[who(r)] = r
	}
	return m
}

// listed returns the ids of the findings a new-findings request lists.
func listed(t *testing.T, r domain.Requested) []string {
	t.Helper()
	items, ok := r.Data["Findings"].([]any)
	if !ok {
		t.Fatalf("%s: data %v has no Findings list", who(r), r.Data)
	}
	var ids []string
	for _, it := range items {
		ids = append(ids, it.(map[string]any)["ID"].(string))
	}
	return ids
}

func sorted(s ...string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// importScenario: one scan over a production and a staging asset of team "platform".
type importScenario struct {
	scan, other                       string
	prod, staging                     string
	crit, high, medium, low           string // opened by scan; crit owned by alice (by e-mail), high unowned
	reopened, resolvedHigh, elsewhere string
}

func (e *plannerEnv) importScenario() importScenario {
	e.t.Helper()
	s := importScenario{scan: uuid.NewString(), other: uuid.NewString()}
	s.prod = e.asset("web-1", "production", "platform")
	s.staging = e.asset("web-stg", "staging", "platform")
	// An earlier scan opened a finding that this scan sees again (FindingReopened), and one this
	// scan does not concern.
	s.reopened = e.finding(s.other, s.staging, "critical", "Log4Shell", "", "CVE-2021-44228")
	e.add(s.reopened, "FindingResolved", s.other, map[string]any{"reason": "patched", "resolved_at": start.Format(time.RFC3339)})
	s.elsewhere = e.finding(s.other, s.prod, "high", "Old finding of another scan", "alice")

	e.scanStarted(s.scan)
	s.crit = e.finding(s.scan, s.prod, "critical", "PAN-OS GlobalProtect command injection", "alice@example.com", "CVE-2024-3400")
	s.high = e.finding(s.scan, s.prod, "high", "OpenSSH regreSSHion", "", "CVE-2024-6387")
	s.medium = e.finding(s.scan, s.prod, "medium", "TLS 1.0 enabled", "alice")
	s.low = e.finding(s.scan, s.staging, "low", "Banner disclosure", "")
	s.resolvedHigh = e.finding(s.scan, s.staging, "high", "Fixed meanwhile", "bob")
	e.add(s.resolvedHigh, "FindingResolved", "", map[string]any{"reason": "patched", "resolved_at": start.Format(time.RFC3339)})
	e.add(s.reopened, "FindingReopened", s.scan, map[string]any{"reason": "seen again by scan", "scan_id": s.scan, "seen_at": start.Format(time.RFC3339)})
	s.scanCompleted(e)
	return s
}

func (s importScenario) scanCompleted(e *plannerEnv) { e.scanCompleted(s.scan) }

func TestPlannerNewFindingsOnePerRecipientAndChannel(t *testing.T) {
	e := newPlannerEnv(t)
	s := e.importScenario()
	e.requests() // skip the setup

	e.mustHandle("cmd-1", CmdNewFindings, map[string]string{"scan_id": s.scan})
	got := wantWhos(t, "new findings", e.requests(),
		"alice/email", "alice/websocket", // crit (owned by alice@example.com)
		"bob/email", "bob/sms", "carol/websocket", // high and reopened: team platform
		"security team/slack", "security team/teams") // shared: everything
	for k, r := range got {
		if r.Kind != channels.KindNewFindings {
			t.Fatalf("%s: kind %s", k, r.Kind)
		}
	}
	for _, k := range []string{"alice/email", "alice/websocket"} {
		if ids := listed(t, got[k]); !slices.Equal(ids, []string{s.crit}) {
			t.Fatalf("%s lists %v, want only the critical finding %s", k, ids, s.crit)
		}
		if got[k].Severity != "critical" || got[k].Recipient.Email != "alice@example.com" {
			t.Fatalf("%s: %+v", k, got[k])
		}
	}
	for _, k := range []string{"bob/email", "bob/sms", "carol/websocket"} {
		if ids := listed(t, got[k]); !slices.Equal(sorted(ids...), sorted(s.high, s.reopened)) {
			t.Fatalf("%s lists %v, want %v", k, ids, []string{s.high, s.reopened})
		}
		if got[k].Severity != "critical" { // the reopened Log4Shell is critical
			t.Fatalf("%s: severity %s", k, got[k].Severity)
		}
	}
	if got["bob/sms"].Recipient.Phone != "+14155550101" {
		t.Fatalf("sms recipient %+v", got["bob/sms"].Recipient)
	}
	for _, k := range []string{"security team/slack", "security team/teams"} {
		if ids := listed(t, got[k]); !slices.Equal(sorted(ids...), sorted(s.crit, s.high, s.reopened)) {
			t.Fatalf("%s lists %v, want crit, high and reopened", k, ids)
		}
		if got[k].Recipient.UserID != "" || got[k].Severity != "critical" || got[k].Data["Total"] != float64(3) {
			t.Fatalf("%s: %+v", k, got[k])
		}
	}
	// The message describes the scan and links the finding.
	a := got["alice/email"]
	scan, _ := a.Data["Scan"].(map[string]any)
	if scan["ID"] != s.scan || scan["Scanner"] != "Nessus" || scan["Name"] != "Nessus "+s.scan || scan["CompletedAt"] == nil {
		t.Fatalf("scan data %v", a.Data["Scan"])
	}
	item := a.Data["Findings"].([]any)[0].(map[string]any)
	if item["URL"] != "https://soc.example.com/v1/findings/"+s.crit || item["Title"] != "PAN-OS GlobalProtect command injection" ||
		item["Asset"] != "web-1" || item["CVE"] != "CVE-2024-3400" || item["Location"] != "10.0.0.5 443 tcp" || item["Owner"] != "alice@example.com" {
		t.Fatalf("finding item %v", item)
	}

	// The same command again (and the same scan under another command id): nothing new.
	e.mustHandle("cmd-1", CmdNewFindings, map[string]string{"scan_id": s.scan})
	e.mustPlanNothing("redelivered command recorded", "cmd-2", CmdNewFindings, map[string]string{"scan_id": s.scan})
}

func TestPlannerNewFindingsNothingWorthTelling(t *testing.T) {
	e := newPlannerEnv(t)
	scan := uuid.NewString()
	prod := e.asset("db-1", "production", "platform")
	e.scanStarted(scan)
	e.finding(scan, prod, "medium", "Weak cipher", "alice")
	e.finding(scan, prod, "low", "Banner", "")
	e.finding(scan, prod, "info", "Open port", "")
	e.scanCompleted(scan)
	e.requests()
	e.mustPlanNothing("medium/low/info only", "cmd-1", CmdNewFindings, map[string]string{"scan_id": scan})
	// An unknown scan: nothing either.
	e.mustPlanNothing("unknown scan", "cmd-2", CmdNewFindings, map[string]string{"scan_id": uuid.NewString()})
}

func TestPlannerNewFindingsWebhookAndFallback(t *testing.T) {
	// Only email and webhook configured: websocket is implicit, sms/slack/teams are not used.
	e := newPlannerEnv(t, email, webhook)
	scan := uuid.NewString()
	lone := e.asset("lone", "production", "nobody-knows")
	e.scanStarted(scan)
	f := e.finding(scan, lone, "high", "Unowned", "")
	e.finding(scan, lone, "critical", "Owned by a stranger", "stranger@example.org")
	e.scanCompleted(scan)
	e.requests()
	e.mustHandle("c", CmdNewFindings, map[string]string{"scan_id": scan})
	got := wantWhos(t, "fallback", e.requests(), "sec/email", "security team/webhook")
	if ids := listed(t, got["sec/email"]); len(ids) != 2 || !slices.Contains(ids, f) {
		t.Fatalf("fallback lists %v", ids)
	}
}

func TestPlannerKEVAlert(t *testing.T) {
	e := newPlannerEnv(t)
	s := e.importScenario()
	cve := es.StreamIDFor("vulns", "cve", "CVE-2024-3400")
	e.add(cve, "CVEListedInKEV", "", map[string]any{"id": "CVE-2024-3400", "date_added": "2024-04-12", "due_date": "2024-04-19",
		"vulnerability_name": "Palo Alto Networks PAN-OS Command Injection", "known_ransomware_campaign_use": "Unknown", "source": "kev"})
	kev := map[string]any{"kev": true, "source": "cisa"}
	e.add(s.crit, "FindingExploitabilityChanged", "", kev)
	e.add(s.low, "FindingExploitabilityChanged", "", kev)                                // staging asset
	e.add(s.elsewhere, "FindingExploitabilityChanged", "", map[string]any{"epss": 0.97}) // production, not KEV
	e.requests()

	e.mustHandle("kev-1", CmdKEVAlert, map[string]string{"finding_id": s.crit})
	got := wantWhos(t, "kev on production", e.requests(), "alice/email", "alice/websocket", "alice/slack", "alice/teams")
	r := got["alice/email"]
	k, _ := r.Data["KEV"].(map[string]any)
	if r.Kind != channels.KindKEVAlert || r.Severity != "critical" || k["CVE"] != "CVE-2024-3400" ||
		k["VulnerabilityName"] != "Palo Alto Networks PAN-OS Command Injection" || k["DueDate"] != "2024-04-19" {
		t.Fatalf("kev request %+v", r)
	}
	e.mustPlanNothing("redelivered", "kev-1", CmdKEVAlert, map[string]string{"finding_id": s.crit})

	for name, f := range map[string]string{"non-production": s.low, "not kev": s.elsewhere} {
		e.mustPlanNothing(name, "kev-"+name, CmdKEVAlert, map[string]string{"finding_id": f})
	}
	// KEV on production, but resolved by the time the alert is planned.
	e.add(s.high, "FindingExploitabilityChanged", "", kev)
	e.add(s.high, "FindingResolved", "", map[string]any{"reason": "patched", "resolved_at": start.Format(time.RFC3339)})
	e.mustPlanNothing("resolved", "kev-resolved", CmdKEVAlert, map[string]string{"finding_id": s.high})
}

func TestPlannerSLABreachEscalatesToLead(t *testing.T) {
	e, s, due := newDueScenario(t)
	e.clock.Set(due.Add(26 * time.Hour))

	// No SLABreached recorded for that deadline: nothing.
	e.mustPlanNothing("without SLABreached", "b-0", CmdSLABreach, map[string]any{"finding_id": s.crit, "due_at": due})
	e.add(s.crit, "SLABreached", "", map[string]any{"due_at": due.Format(time.RFC3339), "breached_at": due.Format(time.RFC3339),
		"severity": "critical", "status": "open", "owner": "alice@example.com"})
	// A breach of another deadline: nothing.
	e.mustPlanNothing("other deadline", "b-1", CmdSLABreach, map[string]any{"finding_id": s.crit, "due_at": due.Add(-24 * time.Hour)})
	e.mustHandle("b-2", CmdSLABreach, map[string]any{"finding_id": s.crit, "due_at": due})
	got := wantWhos(t, "breach", e.requests(), "lee/email", "lee/websocket", "lee/slack", "lee/teams")
	r := got["lee/email"]
	if r.Kind != channels.KindSLABreach || r.Severity != "critical" || r.Data["Owner"] != "alice@example.com" || r.Data["Overdue"] != "1d 2h" {
		t.Fatalf("breach request %+v", r)
	}
	e.mustPlanNothing("redelivered", "b-2", CmdSLABreach, map[string]any{"finding_id": s.crit, "due_at": due})

	// An unowned finding escalates to its asset team's lead.
	e.setDue(s.high, due)
	e.add(s.high, "SLABreached", "", map[string]any{"due_at": due.Format(time.RFC3339), "breached_at": due.Format(time.RFC3339),
		"severity": "high", "status": "open"})
	e.requests()
	e.mustHandle("b-3", CmdSLABreach, map[string]any{"finding_id": s.high, "due_at": due})
	got = wantWhos(t, "team lead", e.requests(), "lee/email", "lee/websocket", "lee/slack", "lee/teams")
	if got["lee/email"].Data["Owner"] != "team platform" {
		t.Fatalf("owner shown %v", got["lee/email"].Data["Owner"])
	}
}

func TestPlannerSLAReminder(t *testing.T) {
	e, s, due := newDueScenario(t)
	e.clock.Set(due.Add(-72 * time.Hour))
	e.mustHandle("r-1", CmdSLAReminder, map[string]any{"finding_id": s.crit, "due_at": due})
	got := wantWhos(t, "reminder", e.requests(), "alice/email", "alice/websocket", "alice/slack", "alice/teams")
	if r := got["alice/email"]; r.Kind != channels.KindSLAReminder || r.Data["Remaining"] != "3d 0h" {
		t.Fatalf("reminder %+v", r)
	}
	// Rescheduled meanwhile: nothing.
	e.mustPlanNothing("stale reminder", "r-2", CmdSLAReminder, map[string]any{"finding_id": s.crit, "due_at": due.Add(time.Hour)})
}

func TestPlannerRiskAcceptanceExpiredGoesToOwners(t *testing.T) {
	e := newPlannerEnv(t)
	s := e.importScenario()
	exp := start.Add(30 * 24 * time.Hour)
	e.requests()
	// Unowned: the asset team (carol, bob).
	e.mustHandle("x-1", CmdRiskAcceptanceExpired, map[string]any{"finding_id": s.high, "accepted_by": "ciso@example.com",
		"justification": "WAF rule", "expired_at": exp})
	got := wantWhos(t, "expired (team)", e.requests(), "bob/email", "bob/sms", "carol/websocket", "Carol, Bob/slack", "Carol, Bob/teams")
	_ = got
	// Owned: the owner.
	e.mustHandle("x-2", CmdRiskAcceptanceExpired, map[string]any{"finding_id": s.crit, "accepted_by": "ciso@example.com",
		"justification": "WAF rule", "expired_at": exp})
	got = wantWhos(t, "expired (owner)", e.requests(), "alice/email", "alice/websocket", "alice/slack", "alice/teams")
	r := got["alice/email"]
	if r.Kind != channels.KindRiskAcceptanceExpired || r.Data["AcceptedBy"] != "ciso@example.com" || r.Data["Reason"] != "WAF rule" ||
		r.Data["ExpiredAt"] != exp.Format(time.RFC3339) {
		t.Fatalf("expired request %+v", r)
	}
	e.mustPlanNothing("redelivered", "x-2", CmdRiskAcceptanceExpired, map[string]any{"finding_id": s.crit, "accepted_by": "ciso@example.com",
		"justification": "WAF rule", "expired_at": exp})
}

func TestPlannerBadCommands(t *testing.T) {
	e := newPlannerEnv(t)
	e.requests()
	missing := events.NewStreamID("vulns", "finding")
	// A payload its schema refuses never reaches the planner: the bus refuses it for good.
	for _, c := range []struct {
		typ     string
		payload string
		pointer string
	}{
		{CmdNewFindings, `not json`, ""},
		{CmdNewFindings, `{}`, "/scan_id"},
		{CmdKEVAlert, `{"finding_id": 42}`, "/finding_id"},
		{CmdKEVAlert, `{}`, "/finding_id"},
		{CmdSLABreach, `{"finding_id":"x","due_at":"yesterday"}`, "/due_at"},
		{CmdSLAReminder, `{"due_at":"2026-01-01T00:00:00Z"}`, "/finding_id"},
		{CmdKEVAlertsForAsset, `{}`, "/asset_id"},
	} {
		err := e.dispatch("id", c.typ, c.payload)
		pe, ok := errors.AsType[*bus.PayloadError](err)
		if !ok || pe.Type != c.typ || pe.Pointer != c.pointer || !pe.Permanent() {
			t.Fatalf("%s %s: err=%v, want a permanent PayloadError at %q", c.typ, c.payload, err, c.pointer)
		}
	}
	// A finding that does not exist: the planner's own refusal.
	err := e.dispatch("id", CmdRiskAcceptanceExpired, fmt.Sprintf(`{"finding_id":%q,"accepted_by":"bob","justification":"j","expired_at":"2026-01-01T00:00:00Z"}`, missing))
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Type != CmdRiskAcceptanceExpired || !strings.Contains(ce.Reason, "no such finding") || ce.Kind() != problem.KindRejected {
		t.Fatalf("missing finding: err=%v, want a CommandError about it", err)
	}
	// The planner handles the notifications commands, and only those.
	want := []string{CmdKEVAlert, CmdKEVAlertsForAsset, CmdNewFindings, CmdRiskAcceptanceExpired, CmdSLABreach, CmdSLAReminder}
	slices.Sort(want)
	if got := e.bus.Handled(); !slices.Equal(got, want) {
		t.Fatalf("planner registered %v, want %v", got, want)
	}
	if _, ok := errors.AsType[*bus.UnknownCommandError](e.dispatch("id", "vulns.record_sla_breach", `{}`)); !ok {
		t.Fatal("a foreign command reached the planner")
	}
	if got := e.requests(); len(got) != 0 {
		t.Fatalf("bad commands recorded %v", whos(got))
	}
	if _, err := NewPlanner(PlannerConfig{}); err == nil {
		t.Fatal("NewPlanner without store/querier/service: no error")
	}
}

// fakeAssetFindings stands in for the importer's index.
type fakeAssetFindings map[string][]string

func (f fakeAssetFindings) OpenKEVFindings(assetID string) []string { return f[assetID] }

// An asset moved to production: its open KEV findings are alerted, once per command.
func TestPlannerKEVAlertsForAsset(t *testing.T) {
	e := newPlannerEnv(t)
	s := e.importScenario()
	e.add(s.crit, "FindingExploitabilityChanged", "", map[string]any{"kev": true, "source": "cisa"})
	e.requests()
	// Without the importer's index in this process the command fails (and is retried elsewhere).
	if err := e.dispatch("a-0", CmdKEVAlertsForAsset, `{"asset_id":"`+s.prod+`"}`); err == nil {
		t.Fatal("without an index: no error")
	}
	e.planner.cfg.AssetFindings = fakeAssetFindings{s.prod: {s.crit, s.elsewhere}} // elsewhere: not KEV → no alert
	e.mustHandle("a-1", CmdKEVAlertsForAsset, map[string]string{"asset_id": s.prod})
	got := wantWhos(t, "asset moved to production", e.requests(), "alice/email", "alice/websocket", "alice/slack", "alice/teams")
	if r := got["alice/email"]; r.Kind != channels.KindKEVAlert || r.Severity != "critical" {
		t.Fatalf("request %+v", r)
	}
	e.mustPlanNothing("redelivered", "a-1", CmdKEVAlertsForAsset, map[string]string{"asset_id": s.prod})
	if err := e.dispatch("a-2", CmdKEVAlertsForAsset, `{}`); err == nil {
		t.Fatal("no asset id: no error")
	}
}
