// Package app holds the assets context's command handlers: each loads an Asset from its stream,
// checks what the aggregate cannot see (uniqueness of strong identifiers, link targets, the
// teams a team-restricted principal may change), calls the domain method, and appends what it
// decided at the loaded version.
package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Claims answers which strong identifiers live assets already hold; *Lookup implements it from
// its index, which follows the store (*domain.Index does too).
type Claims interface {
	Claimed(kind domain.AssetKind, ids domain.Identifiers, except string) []domain.Claim
}

var _ Claims = (*domain.Index)(nil)

// Commands, as decoded from their bodies: the types generated from
// schemas/commands/assets/<Name>.json.
type (
	RegisterAsset   = contracts.RegisterAsset
	UpdateAsset     = contracts.UpdateAsset
	ClassifyAsset   = contracts.ClassifyAsset
	LinkAsset       = contracts.LinkAsset
	UnlinkAsset     = contracts.UnlinkAsset
	RetireAsset     = contracts.RetireAsset
	ReactivateAsset = contracts.ReactivateAsset
	MergeAssets     = contracts.MergeAssets
)

// identifiersOf is the domain's value of a command's identifiers (none when absent).
func identifiersOf(in *contracts.AssetIdentifiersInput) domain.Identifiers {
	if in == nil {
		return domain.Identifiers{}
	}
	return domain.Identifiers(*in)
}

func registration(cmd RegisterAsset) domain.RegisterAsset {
	return domain.RegisterAsset{Kind: domain.AssetKind(cmd.Kind), Name: cmd.Name, Description: cmd.Description,
		Identifiers: identifiersOf(cmd.Identifiers), ScanID: cmd.ScanID,
		Classification: domain.Classification{Criticality: cmd.Criticality, Environment: cmd.Environment,
			OwnerTeam: cmd.OwnerTeam, DataClassification: cmd.DataClassification, Tags: cmd.Tags}}
}

func update(cmd UpdateAsset) domain.UpdateAsset {
	u := domain.UpdateAsset{Name: cmd.Name, Description: cmd.Description}
	if cmd.Identifiers != nil {
		ids := identifiersOf(cmd.Identifiers)
		u.Identifiers = &ids
	}
	return u
}

// classification keeps what the body leaves out empty (nil tags: keep them; [] clears them).
func classification(cmd ClassifyAsset) domain.ClassifyAsset {
	c := domain.ClassifyAsset{OwnerTeam: cmd.OwnerTeam}
	if cmd.Criticality != nil {
		c.Criticality = *cmd.Criticality
	}
	if cmd.Environment != nil {
		c.Environment = *cmd.Environment
	}
	if cmd.DataClassification != nil {
		c.DataClassification = *cmd.DataClassification
	}
	if cmd.Tags != nil {
		c.Tags = *cmd.Tags
	}
	return c
}

// SchemaNames lists the command schemas the handlers need.
var SchemaNames = []string{"assets/RegisterAsset", "assets/UpdateAsset", "assets/ClassifyAsset", "assets/LinkAsset",
	"assets/UnlinkAsset", "assets/RetireAsset", "assets/ReactivateAsset", "assets/MergeAssets"}

// ClaimedError refuses an identifier that another live asset already holds (409). The holder
// is named only when the command's scope sees it (Claim.AssetID is "" otherwise).
type ClaimedError struct{ Claim domain.Claim }

func (e *ClaimedError) Error() string {
	if e.Claim.AssetID == "" {
		return fmt.Sprintf("%s %s already belongs to another asset", e.Claim.Field, e.Claim.Value)
	}
	return fmt.Sprintf("%s %s already belongs to asset %s", e.Claim.Field, e.Claim.Value, e.Claim.AssetID)
}
func (e *ClaimedError) Kind() problem.Kind { return problem.KindConflict }
func (e *ClaimedError) Field() string      { return "/identifiers/" + e.Claim.Field }

// TeamScopeError refuses to give an asset to a team the command's scope does not see (403,
// naming /owner_team): a team-restricted principal registers and classifies assets into its own
// teams only — not into another's, nor into none, since it could not see the asset afterwards.
type TeamScopeError struct{}

func (e *TeamScopeError) Error() string {
	return "owner_team must be one of your teams: a team-restricted principal cannot give an asset to another team, or to none"
}
func (e *TeamScopeError) Kind() problem.Kind { return problem.KindForbidden }
func (e *TeamScopeError) Field() string      { return "/owner_team" }

// givesTo refuses an owner_team (as the domain records it: trimmed) outside the scope.
func givesTo(inv es.Invocation, team string) error {
	if !inv.Sees(strings.TrimSpace(team)) {
		return &TeamScopeError{}
	}
	return nil
}

// Service runs the asset commands against the event store.
type Service struct {
	store  es.Store
	claims Claims
}

// New returns a Service writing to store; claims may be nil (no uniqueness check).
func New(store es.Store, claims Claims) *Service { return &Service{store: store, claims: claims} }

// maxMergeDepth bounds how far sees follows a chain of merges (a merge into a retired asset is
// refused, so a chain has no cycle; the bound guards against a damaged log).
const maxMergeDepth = 32

// sees reports whether the command's scope sees asset a: the team that owns it now, its own or,
// once merged, its survivor's (projections/ownership's rule, which the reads apply).
func (s *Service) sees(ctx context.Context, inv es.Invocation, a *domain.Asset) (bool, error) {
	if !inv.Scoped() {
		return true, nil
	}
	for i := 0; a.MergedInto != "" && i < maxMergeDepth; i++ {
		var next domain.Asset
		if _, err := es.Load(ctx, s.store, a.MergedInto, &next); err != nil {
			return false, err
		}
		a = &next
	}
	return inv.Sees(a.OwnerTeam), nil
}

func (s *Service) claimed(ctx context.Context, inv es.Invocation, kind domain.AssetKind, ids domain.Identifiers, except string) error {
	if s.claims == nil {
		return nil
	}
	norm, err := domain.NormalizeIdentifiers(kind, ids)
	if err != nil {
		return nil // the domain method reports it, naming the field
	}
	c := s.claims.Claimed(kind, norm, except)
	if len(c) == 0 {
		return nil
	}
	if inv.Scoped() {
		// Uniqueness holds across teams, but a team-restricted principal does not learn the id
		// of another team's asset from it.
		var holder domain.Asset
		if _, err := es.Load(ctx, s.store, c[0].AssetID, &holder); err != nil {
			return err
		}
		visible, err := s.sees(ctx, inv, &holder)
		if err != nil {
			return err
		}
		if !visible {
			c[0].AssetID = ""
		}
	}
	return &ClaimedError{Claim: c[0]}
}

// Register creates an asset. Without an Idempotency-Key its id is a fresh
// "assets-asset-<uuidv7>"; with one, the id is derived from the key, so a retried request finds
// the asset it created and is answered the same (created, same id, version and position).
func (s *Service) Register(ctx context.Context, body RegisterAsset, inv es.Invocation) (es.Outcome, error) {
	cmd := registration(body)
	id := events.NewStreamID("assets", "asset")
	if k := inv.Meta.IdempotencyKey; k != "" {
		id = es.StreamIDFor("assets", "asset", "register\x00"+k)
	}
	var a domain.Asset
	res, err := es.Exec(ctx, s.store, id, &a, inv, func() ([]es.Change, error) {
		if a.Exists() {
			return nil, &domain.TransitionError{AssetID: id, From: a.Status, Command: "register"}
		}
		if err := givesTo(inv, cmd.Classification.OwnerTeam); err != nil {
			return nil, err
		}
		if err := s.claimed(ctx, inv, cmd.Kind, cmd.Identifiers, ""); err != nil {
			return nil, err
		}
		return a.Register(cmd)
	})
	return res, err
}

// run loads asset id and appends what decide returns; an unknown asset is a 404, and so is one
// the command's scope does not see: the same error, so a team-restricted principal cannot tell
// another team's asset from one that does not exist.
func (s *Service) run(ctx context.Context, id string, inv es.Invocation, decide func(a *domain.Asset) ([]es.Change, error)) (es.Outcome, error) {
	return es.ExecExisting(ctx, s.store, "asset", id, domain.IsAssetID, inv, func(a *domain.Asset) ([]es.Change, error) {
		switch sees, err := s.sees(ctx, inv, a); {
		case err != nil:
			return nil, err
		case !sees:
			return nil, &es.NotFoundError{What: "asset", ID: id}
		}
		return decide(a)
	})
}

// Update changes name, description or identifiers; new identifiers must not be another live
// asset's.
func (s *Service) Update(ctx context.Context, id string, body UpdateAsset, inv es.Invocation) (es.Outcome, error) {
	cmd := update(body)
	return s.run(ctx, id, inv, func(a *domain.Asset) ([]es.Change, error) {
		changes, err := a.Update(cmd)
		if err != nil || len(changes) == 0 || cmd.Identifiers == nil {
			return changes, err
		}
		if err := s.claimed(ctx, inv, a.Kind, *cmd.Identifiers, id); err != nil {
			return nil, err
		}
		return changes, nil
	})
}

// Classify rates the asset; a team-restricted principal gives it to one of its teams only.
func (s *Service) Classify(ctx context.Context, id string, cmd ClassifyAsset, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(a *domain.Asset) ([]es.Change, error) {
		if cmd.OwnerTeam != nil {
			if err := givesTo(inv, *cmd.OwnerTeam); err != nil {
				return nil, err
			}
		}
		return a.Classify(classification(cmd))
	})
}

// Link records a relation to another asset, which must exist and be live (and, for a
// team-restricted principal, be visible: another team's asset is refused as a missing one).
func (s *Service) Link(ctx context.Context, id string, cmd LinkAsset, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(a *domain.Asset) ([]es.Change, error) {
		changes, err := a.Link(domain.Relation(cmd.Relation), cmd.TargetAssetID)
		if err != nil {
			return nil, err
		}
		var target domain.Asset
		if _, err := es.Load(ctx, s.store, cmd.TargetAssetID, &target); err != nil {
			return nil, err
		}
		visible, err := s.sees(ctx, inv, &target)
		if err != nil {
			return nil, err
		}
		switch {
		case !target.Exists() || !visible:
			return nil, &domain.RuleError{Path: "/target_asset_id", Reason: "no such asset: " + cmd.TargetAssetID}
		case target.Status == domain.StatusRetired:
			return nil, &domain.RuleError{Path: "/target_asset_id", Reason: "the target asset is retired"}
		}
		return changes, nil
	})
}

// Unlink removes a relation.
func (s *Service) Unlink(ctx context.Context, id string, cmd UnlinkAsset, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(a *domain.Asset) ([]es.Change, error) {
		return a.Unlink(domain.Relation(cmd.Relation), cmd.TargetAssetID)
	})
}

// Retire takes the asset out of service.
func (s *Service) Retire(ctx context.Context, id string, cmd RetireAsset, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(a *domain.Asset) ([]es.Change, error) { return a.Retire(cmd.Reason) })
}

// Reactivate brings a retired asset back, unless a live asset registered since holds one of
// its strong identifiers.
func (s *Service) Reactivate(ctx context.Context, id string, cmd ReactivateAsset, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(a *domain.Asset) ([]es.Change, error) {
		changes, err := a.Reactivate(cmd.Reason)
		if err != nil {
			return nil, err
		}
		if err := s.claimed(ctx, inv, a.Kind, a.Identifiers, id); err != nil {
			return nil, err
		}
		return changes, nil
	})
}

// Merge merges the asset id (the source) into cmd.TargetAssetID (see domain.Asset.MergeInto):
// AssetMergedInto on the source, then AssetMerged on the target. The target is checked first
// (it must be another live asset); the source's append comes before the target's so that a
// source is never found live after its target recorded it, and a merge cut between the two is
// finished by repeating it (each side appends only what it lacks). The outcome is the source's.
// A team-restricted principal merges assets it sees, both: a target of another team is
// refused as a missing one.
func (s *Service) Merge(ctx context.Context, id string, cmd MergeAssets, inv es.Invocation) (es.Outcome, error) {
	var target domain.Asset
	if _, err := es.Load(ctx, s.store, cmd.TargetAssetID, &target); err != nil {
		return es.Outcome{}, err
	}
	switch visible, err := s.sees(ctx, inv, &target); {
	case err != nil:
		return es.Outcome{}, err
	case !visible:
		target = domain.Asset{} // refused below exactly as an asset that does not exist
	}
	if target.ID == "" {
		target.ID = cmd.TargetAssetID
	}
	if _, err := target.TakeMerged(id, cmd.Reason); err != nil {
		return es.Outcome{}, err
	}
	out, err := s.run(ctx, id, inv, func(a *domain.Asset) ([]es.Change, error) { return a.MergeInto(cmd.TargetAssetID, cmd.Reason) })
	if err != nil {
		return out, err
	}
	_, err = s.run(ctx, cmd.TargetAssetID, inv, func(t *domain.Asset) ([]es.Change, error) {
		return t.TakeMerged(id, cmd.Reason)
	})
	return out, err
}
