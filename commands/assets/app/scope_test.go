package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/assets/app"
	"github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/internal/testsupport"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/events/snapshot"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

var (
	unscoped = es.Invocation{Meta: es.Meta{Actor: "user:analyst"}}
	inAlpha  = es.Invocation{Meta: es.Meta{Actor: "token:ci-alpha"}, Scope: []string{"alpha"}}
)

type assetScopeEnv struct {
	t     *testing.T
	ctx   context.Context
	store *events.Guarded
	svc   *app.Service
	l     *app.Lookup
	n     int
}

func newAssetScopeEnv(t *testing.T) *assetScopeEnv {
	store := testsupport.OpenSQLiteStore(t, sqlite.Config{Synchronous: "NORMAL"})
	l := loadedLookup(t, store, snapshot.Dir{})
	return &assetScopeEnv{t: t, ctx: context.Background(), store: store, svc: app.New(store, l), l: l}
}

// register registers a host owned by team, unscoped, and returns its id.
func (e *assetScopeEnv) register(team string) string {
	e.t.Helper()
	e.n++
	out, err := e.svc.Register(e.ctx, app.RegisterAsset{Kind: string(domain.Host), Name: fmt.Sprintf("h-%d", e.n),
		Identifiers: &contracts.AssetIdentifiersInput{MACs: []string{fmt.Sprintf("00:1a:2b:3c:4d:%02x", e.n)}}, OwnerTeam: team}, unscoped)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.l.CatchUp(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return out.StreamID
}

func (e *assetScopeEnv) head() int64 { e.t.Helper(); return eventstest.Head(e.t, e.store) }

// refused checks that cmd fails with want (by errors.As) and appends nothing.
func refused[T error](e *assetScopeEnv, what string, cmd func() (es.Outcome, error)) T {
	e.t.Helper()
	before := e.head()
	_, err := cmd()
	var target T
	if !errors.As(err, &target) {
		e.t.Fatalf("%s: %v (%T), want %T", what, err, err, target)
	}
	if after := e.head(); after != before {
		e.t.Fatalf("%s: the refused command appended %d events", what, after-before)
	}
	return target
}

func ok(e *assetScopeEnv, what string, cmd func() (es.Outcome, error)) {
	e.t.Helper()
	if _, err := cmd(); err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
}

// assetCommands are the commands on an existing asset, each allowed on a fresh live asset.
func assetCommands(e *assetScopeEnv) map[string]func(id string, inv es.Invocation) (es.Outcome, error) {
	ctx, svc := e.ctx, e.svc
	name, crit := "renamed", domain.CriticalityHigh
	return map[string]func(id string, inv es.Invocation) (es.Outcome, error){
		"update": func(id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Update(ctx, id, app.UpdateAsset{Name: &name}, inv)
		},
		"classify": func(id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Classify(ctx, id, app.ClassifyAsset{Criticality: &crit}, inv)
		},
		"link": func(id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Link(ctx, id, app.LinkAsset{Relation: string(domain.DependsOn), TargetAssetID: e.register("alpha")}, inv)
		},
		"unlink": func(id string, inv es.Invocation) (es.Outcome, error) {
			target := e.register("alpha")
			if _, err := svc.Link(ctx, id, app.LinkAsset{Relation: string(domain.DependsOn), TargetAssetID: target}, unscoped); err != nil {
				return es.Outcome{}, err
			}
			return svc.Unlink(ctx, id, app.UnlinkAsset{Relation: string(domain.DependsOn), TargetAssetID: target}, inv)
		},
		"retire": func(id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Retire(ctx, id, app.RetireAsset{Reason: "gone"}, inv)
		},
		"reactivate": func(id string, inv es.Invocation) (es.Outcome, error) {
			if _, err := svc.Retire(ctx, id, app.RetireAsset{Reason: "gone"}, unscoped); err != nil {
				return es.Outcome{}, err
			}
			return svc.Reactivate(ctx, id, app.ReactivateAsset{Reason: "back"}, inv)
		},
		"merge": func(id string, inv es.Invocation) (es.Outcome, error) {
			return svc.Merge(ctx, id, app.MergeAssets{TargetAssetID: e.register("alpha")}, inv)
		},
	}
}

// A principal restricted to team alpha (an API token with assets:write) changes alpha's
// assets only: a command on another team's asset, or on one no team owns, is refused exactly
// as one on a missing asset, appending nothing; unscoped commands change any asset.
func TestAssetCommandsAreTeamScoped(t *testing.T) {
	e := newAssetScopeEnv(t)
	for name, cmd := range assetCommands(e) {
		ok(e, name+" on alpha's asset", func() (es.Outcome, error) { return cmd(e.register("alpha"), inAlpha) })
		ok(e, name+" unscoped, on beta's asset", func() (es.Outcome, error) { return cmd(e.register("beta"), unscoped) })
		for _, owner := range []string{"beta", ""} {
			id := e.register(owner)
			_, err := cmd(id, inAlpha)
			var nf *es.NotFoundError
			if !errors.As(err, &nf) || *nf != (es.NotFoundError{What: "asset", ID: id}) {
				t.Fatalf("%s on an asset owned by %q: %v, want the error of a missing asset", name, owner, err)
			}
			// (The command's own preparation — a retirement, a link — is unscoped.)
			evs, err := e.store.ReadStream(e.ctx, id, events.ReadStreamOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range evs {
				if ev.Actor == inAlpha.Meta.Actor {
					t.Fatalf("%s on an asset owned by %q appended %s to it", name, owner, ev.Type)
				}
			}
		}
		missing := events.NewStreamID("assets", "asset")
		if _, err := cmd(missing, inAlpha); err == nil || err.Error() != (&es.NotFoundError{What: "asset", ID: missing}).Error() {
			t.Fatalf("%s on a missing asset: %v", name, err)
		}
	}
}

// A team-restricted principal registers and classifies assets into its own teams only (403
// naming /owner_team), links and merges only assets it sees (another team's is refused as a
// missing one), and is not told which other team's asset holds an identifier it claims.
func TestAssetOwnershipChangesAreTeamScoped(t *testing.T) {
	e := newAssetScopeEnv(t)
	ctx := e.ctx
	register := func(team, mac string, inv es.Invocation) (es.Outcome, error) {
		return e.svc.Register(ctx, app.RegisterAsset{Kind: string(domain.Host), Name: "h-" + mac,
			Identifiers: &contracts.AssetIdentifiersInput{MACs: []string{mac}}, OwnerTeam: team}, inv)
	}
	for _, team := range []string{"beta", "", " "} {
		se := refused[*app.TeamScopeError](e, fmt.Sprintf("register into %q", team), func() (es.Outcome, error) {
			return register(team, "00:aa:00:00:00:01", inAlpha)
		})
		if se.Kind() != problem.KindForbidden || se.Field() != "/owner_team" {
			t.Fatalf("register into %q: %d %s", team, se.Kind(), se.Field())
		}
	}
	ok(e, "register into alpha", func() (es.Outcome, error) { return register(" alpha ", "00:aa:00:00:00:01", inAlpha) })
	ok(e, "register into beta, unscoped", func() (es.Outcome, error) { return register("beta", "00:aa:00:00:00:02", unscoped) })

	alpha, beta := e.register("alpha"), e.register("beta")
	for _, team := range []string{"beta", ""} {
		refused[*app.TeamScopeError](e, fmt.Sprintf("classify alpha's asset into %q", team), func() (es.Outcome, error) {
			return e.svc.Classify(ctx, alpha, app.ClassifyAsset{OwnerTeam: &team}, inAlpha)
		})
	}
	again := "alpha"
	ok(e, "classify alpha's asset into alpha", func() (es.Outcome, error) {
		return e.svc.Classify(ctx, alpha, app.ClassifyAsset{OwnerTeam: &again}, inAlpha)
	})

	// Link and merge: beta's asset as the target is refused as a missing one is.
	missing := events.NewStreamID("assets", "asset")
	for _, c := range []struct {
		name string
		run  func(target string) (es.Outcome, error)
	}{
		{"link", func(target string) (es.Outcome, error) {
			return e.svc.Link(ctx, alpha, app.LinkAsset{Relation: string(domain.DependsOn), TargetAssetID: target}, inAlpha)
		}},
		{"merge", func(target string) (es.Outcome, error) {
			return e.svc.Merge(ctx, alpha, app.MergeAssets{TargetAssetID: target}, inAlpha)
		}},
	} {
		got := refused[*domain.RuleError](e, c.name+" into beta's asset", func() (es.Outcome, error) { return c.run(beta) })
		_, want := c.run(missing)
		if got.Field() != "/target_asset_id" || got.Error() != strings.ReplaceAll(want.Error(), missing, beta) {
			t.Fatalf("%s into beta's asset: %v, want what a missing target gets: %v", c.name, got, want)
		}
	}

	// Claims: the holder is named to whom sees it only.
	claim := func(inv es.Invocation) *app.ClaimedError {
		return refused[*app.ClaimedError](e, "claiming beta's MAC", func() (es.Outcome, error) {
			return register("alpha", "00:aa:00:00:00:02", inv)
		})
	}
	if c := claim(inAlpha); c.Claim.AssetID != "" || strings.Contains(c.Error(), "assets-asset-") {
		t.Fatalf("a team-restricted principal is told the holder: %v", c)
	}
	if c := claim(unscoped); c.Claim.AssetID == "" || !strings.Contains(c.Error(), c.Claim.AssetID) {
		t.Fatalf("an unscoped principal is not told the holder: %v", c)
	}
}

// A merged asset is owned by its survivor's team: alpha's asset merged into beta's is beta's
// now (404 to alpha), beta's merged into alpha's is alpha's (alpha sees it: the domain's refusal).
func TestMergedAssetsFollowTheSurvivor(t *testing.T) {
	e := newAssetScopeEnv(t)
	retire := func(id string) (es.Outcome, error) {
		return e.svc.Retire(e.ctx, id, app.RetireAsset{Reason: "gone"}, inAlpha)
	}
	gone, betaSurvivor := e.register("alpha"), e.register("beta")
	ok(e, "merge alpha's into beta's", func() (es.Outcome, error) {
		return e.svc.Merge(e.ctx, gone, app.MergeAssets{TargetAssetID: betaSurvivor}, unscoped)
	})
	refused[*es.NotFoundError](e, "retire alpha's asset merged into beta's", func() (es.Outcome, error) { return retire(gone) })

	came, alphaSurvivor := e.register("beta"), e.register("alpha")
	ok(e, "merge beta's into alpha's", func() (es.Outcome, error) {
		return e.svc.Merge(e.ctx, came, app.MergeAssets{TargetAssetID: alphaSurvivor}, unscoped)
	})
	refused[*domain.TransitionError](e, "retire beta's asset merged into alpha's", func() (es.Outcome, error) { return retire(came) })
}
