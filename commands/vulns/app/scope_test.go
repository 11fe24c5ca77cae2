package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/commands/vulns/app"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// owners is the assets' ownership as app.Owners sees it: the teams it has read, and those a
// catch-up reveals (assets registered a moment ago).
type owners struct {
	mu       sync.Mutex
	known    map[string]string
	pending  map[string]string // learnt on the next CatchUp
	catchUps int
}

func (o *owners) OwnerTeam(assetID string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	team, ok := o.known[assetID]
	return team, ok
}

func (o *owners) CatchUp(context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.catchUps++
	for id, team := range o.pending {
		o.known[id] = team
	}
	clear(o.pending)
	return nil
}

type scopeEnv struct {
	t      *testing.T
	store  *events.Guarded
	owners *owners
	svc    *app.Service
	asset  map[string]string // team → an asset it owns ("" → an asset no team owns)
}

func newScopeEnv(t *testing.T) *scopeEnv {
	t.Helper()
	o := &owners{known: map[string]string{}, pending: map[string]string{}}
	e := &scopeEnv{t: t, store: testsupport.SQLiteStore(t), owners: o, asset: map[string]string{}}
	for _, team := range []string{"alpha", "beta", ""} {
		id := events.NewStreamID("assets", "asset")
		e.asset[team], o.known[id] = id, team
	}
	e.svc = app.New(e.store, o)
	return e
}

// open appends a FindingOpened on assetID and returns the finding's id.
func (e *scopeEnv) open(assetID string) string {
	e.t.Helper()
	id := events.NewStreamID("vulns", "finding")
	data := openedData(time.Now().UTC())
	data["asset_id"] = assetID
	if _, err := es.Save(context.Background(), e.store, id, events.NoStream, es.Meta{}, []es.Change{{Type: contracts.TypeFindingOpened, Data: data}}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *scopeEnv) length(id string) int {
	e.t.Helper()
	return len(testsupport.StreamTypes(e.t, e.store, id))
}

var (
	system = es.Invocation{Meta: es.Meta{Actor: "system:finding_deadlines"}}
	alpha  = es.Invocation{Meta: es.Meta{Actor: "user:rem"}, Scope: []string{"alpha"}}
)

// findingCommand is one finding command, and what must happen before it is allowed.
type findingCommand struct {
	name string
	prep func(svc *app.Service, id string) error // run unscoped first (nil: none)
	run  func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error)
}

func findingCommands(other string) []findingCommand {
	ctx := context.Background()
	future := time.Now().Add(30 * 24 * time.Hour).UTC()
	resolve := func(svc *app.Service, id string) error {
		_, err := svc.Resolve(ctx, id, app.ResolveFinding{Reason: "patched"}, system)
		return err
	}
	return []findingCommand{
		{"triage", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Triage(ctx, id, app.TriageFinding{Note: "confirmed"}, inv)
		}},
		{"start-remediation", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.StartRemediation(ctx, id, app.StartRemediation{}, inv)
		}},
		{"resolve", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Resolve(ctx, id, app.ResolveFinding{Reason: "patched"}, inv)
		}},
		{"reopen", resolve, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Reopen(ctx, id, app.ReopenFinding{Reason: "still there"}, inv)
		}},
		{"false-positive", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.MarkFalsePositive(ctx, id, app.MarkFalsePositive{Justification: "not reachable"}, inv)
		}},
		{"duplicate", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.MarkDuplicate(ctx, id, app.MarkDuplicate{DuplicateOf: other}, inv)
		}},
		{"accept-risk", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.AcceptRisk(ctx, id, app.AcceptRisk{Approver: "ciso", Justification: "compensating control", ExpiresAt: future}, inv)
		}},
		{"assign", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Assign(ctx, id, app.AssignFinding{Owner: "someone"}, inv)
		}},
		{"comment", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Comment(ctx, id, app.CommentFinding{Comment: "patch scheduled"}, inv)
		}},
		{"due-date", nil, func(svc *app.Service, id string, inv es.Invocation) (es.Outcome, error) {
			return svc.SetDueDate(ctx, id, app.SetDueDate{DueAt: future, Reason: "agreed"}, inv)
		}},
	}
}

// wantNotFound checks err is exactly what a command on a finding that does not exist gets.
func wantNotFound(t *testing.T, what string, cmd findingCommand, svc *app.Service, id string, err error) {
	t.Helper()
	missing := events.NewStreamID("vulns", "finding")
	_, ref := cmd.run(svc, missing, alpha)
	var nf, nfRef *es.NotFoundError
	if !errors.As(err, &nf) || !errors.As(ref, &nfRef) || nf.Kind() != problem.KindNotFound || *nf != (es.NotFoundError{What: nfRef.What, ID: id}) ||
		err.Error() != strings.ReplaceAll(ref.Error(), missing, id) {
		t.Fatalf("%s: %s: %v (%T), want the error of a missing finding: %v", cmd.name, what, err, err, ref)
	}
}

// Every finding command of a principal restricted to team alpha works on the findings of
// alpha's assets, and on another team's (or no team's) finding answers exactly what a missing
// finding gets, appending nothing; unscoped commands (teams:all, a saga) work on any.
func TestFindingCommandsAreTeamScoped(t *testing.T) {
	e := newScopeEnv(t)
	other := e.open(e.asset["alpha"])
	for _, cmd := range findingCommands(other) {
		for _, tc := range []struct {
			what  string
			asset string
			inv   es.Invocation
			ok    bool
		}{
			{"scoped, own team's finding", e.asset["alpha"], alpha, true},
			{"scoped, another team's finding", e.asset["beta"], alpha, false},
			{"scoped, a finding of an asset no team owns", e.asset[""], alpha, false},
			{"scoped to no team", e.asset["alpha"], es.Invocation{Meta: alpha.Meta, Scope: []string{}}, false},
			{"unscoped", e.asset["beta"], es.Invocation{Meta: es.Meta{Actor: "user:analyst"}}, true},
			{"system", e.asset[""], system, true},
		} {
			id := e.open(tc.asset)
			if cmd.prep != nil {
				if err := cmd.prep(e.svc, id); err != nil {
					t.Fatalf("%s: prep: %v", cmd.name, err)
				}
			}
			before := e.length(id)
			out, err := cmd.run(e.svc, id, tc.inv)
			switch {
			case tc.ok && (err != nil || out.StreamID != id || e.length(id) != before+1):
				t.Fatalf("%s: %s: %+v %v, %d events (want %d)", cmd.name, tc.what, out, err, e.length(id), before+1)
			case !tc.ok:
				wantNotFound(t, tc.what, cmd, e.svc, id, err)
				if n := e.length(id); n != before {
					t.Fatalf("%s: %s: %d events after a refused command, want %d", cmd.name, tc.what, n, before)
				}
			}
		}
	}
}

// Who owns an asset is the lookup's answer now: a finding follows its asset to another team at
// once; an asset the lookup has not read yet is looked up again after a catch-up (only for a
// scoped command), and an asset it never learns of is nobody's. Without a lookup a scoped
// command sees no finding.
func TestFindingScopeFollowsTheOwners(t *testing.T) {
	ctx := context.Background()
	e := newScopeEnv(t)
	comment := func(svc *app.Service, id string, inv es.Invocation) error {
		_, err := svc.Comment(ctx, id, app.CommentFinding{Comment: "c"}, inv)
		return err
	}
	moved := e.open(e.asset["alpha"])
	if err := comment(e.svc, moved, alpha); err != nil {
		t.Fatal(err)
	}
	e.owners.known[e.asset["alpha"]] = "beta"
	if err := comment(e.svc, moved, alpha); !errors.As(err, new(*es.NotFoundError)) {
		t.Fatalf("a finding of an asset reclassified to beta: %v", err)
	}

	fresh := events.NewStreamID("assets", "asset")
	e.owners.pending[fresh] = "alpha"
	id := e.open(fresh)
	if err := comment(e.svc, id, es.Invocation{}); err != nil || e.owners.catchUps != 0 {
		t.Fatalf("unscoped: %v, %d catch-ups (want none)", err, e.owners.catchUps)
	}
	if err := comment(e.svc, id, alpha); err != nil || e.owners.catchUps != 1 {
		t.Fatalf("a finding of an asset registered a moment ago: %v, %d catch-ups", err, e.owners.catchUps)
	}
	if err := comment(e.svc, id, alpha); err != nil || e.owners.catchUps != 1 {
		t.Fatalf("a known asset: %v, %d catch-ups (want no other)", err, e.owners.catchUps)
	}
	unknown := e.open(events.NewStreamID("assets", "asset"))
	if err := comment(e.svc, unknown, alpha); !errors.As(err, new(*es.NotFoundError)) || e.owners.catchUps != 2 {
		t.Fatalf("a finding of an asset nobody knows: %v, %d catch-ups", err, e.owners.catchUps)
	}

	blind := app.New(e.store, nil)
	own := e.open(e.asset["alpha"])
	if err := comment(blind, own, alpha); !errors.As(err, new(*es.NotFoundError)) {
		t.Fatalf("scoped without a lookup: %v", err)
	}
	if err := comment(blind, own, system); err != nil {
		t.Fatalf("unscoped without a lookup: %v", err)
	}
}
