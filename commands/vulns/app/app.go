// Package app holds the vulns context's command handlers: each loads a Finding from its stream,
// checks that the command's scope sees it (a team-restricted principal works the findings of
// its teams' assets only), calls the domain method, and appends what it decided at the loaded
// version.
package app

import (
	"context"
	"strings"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// Commands, as decoded from their bodies: the types generated from
// schemas/commands/vulns/<Name>.json.
type (
	TriageFinding     = contracts.TriageFinding
	StartRemediation  = contracts.StartRemediation
	ResolveFinding    = contracts.ResolveFinding
	ReopenFinding     = contracts.ReopenFinding
	MarkFalsePositive = contracts.MarkFalsePositive
	MarkDuplicate     = contracts.MarkDuplicate
	AcceptRisk        = contracts.AcceptRisk
	AssignFinding     = contracts.AssignFinding
	CommentFinding    = contracts.CommentFinding
	SetDueDate        = contracts.SetDueDate
)

// SchemaNames lists the command schemas the handlers need.
var SchemaNames = []string{"vulns/TriageFinding", "vulns/StartRemediation", "vulns/ResolveFinding", "vulns/ReopenFinding",
	"vulns/MarkFalsePositive", "vulns/MarkDuplicate", "vulns/AcceptRisk", "vulns/AssignFinding", "vulns/CommentFinding", "vulns/SetDueDate"}

// Owners says which team owns an asset now, following merges to the survivor (the assets
// context's Lookup implements it; cmd/soc wires it). It may trail the log by a moment:
// CatchUp brings it to the head.
type Owners interface {
	// OwnerTeam is the asset's team ("" for none); known is false for an asset it has not read.
	OwnerTeam(assetID string) (team string, known bool)
	CatchUp(ctx context.Context) error
}

// Service runs the finding commands against the event store.
type Service struct {
	store  es.Store
	owners Owners
	now    func() time.Time
}

// New returns a Service writing to store. owners answers who owns a finding's asset for a
// team-scoped command (es.Invocation.Scope); without it (nil) a scoped command sees no
// finding, while unscoped ones are not affected.
func New(store es.Store, owners Owners) *Service {
	return &Service{store: store, owners: owners, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// IsFindingID reports whether id is a finding stream id, "vulns-finding-<uuid>".
func IsFindingID(id string) bool {
	return strings.HasPrefix(id, "vulns-finding-") && events.ValidStreamID(id)
}

// run loads finding id and appends what decide returns; an unknown finding is a 404, and so is
// one the command's scope does not see: the same error, so a scoped principal cannot tell
// another team's finding from one that does not exist.
func (s *Service) run(ctx context.Context, id string, inv es.Invocation, decide func(f *domain.Finding) ([]es.Change, error)) (es.Outcome, error) {
	return es.ExecExisting(ctx, s.store, "finding", id, IsFindingID, inv, func(f *domain.Finding) ([]es.Change, error) {
		switch sees, err := s.sees(ctx, inv, f.AssetID); {
		case err != nil:
			return nil, err
		case !sees:
			return nil, &es.NotFoundError{What: "finding", ID: id}
		}
		return decide(f)
	})
}

// sees reports whether the invocation's scope sees the findings of assetID: the team that owns
// the asset now (projections/ownership's rule, which the reads apply). An asset the lookup has
// not read yet (registered a moment ago) is looked up again after a catch-up.
func (s *Service) sees(ctx context.Context, inv es.Invocation, assetID string) (bool, error) {
	if !inv.Scoped() {
		return true, nil
	}
	if s.owners == nil {
		return false, nil
	}
	team, known := s.owners.OwnerTeam(assetID)
	if !known {
		if err := s.owners.CatchUp(ctx); err != nil {
			return false, err
		}
		team, _ = s.owners.OwnerTeam(assetID)
	}
	return inv.Sees(team), nil
}

// Triage confirms the finding needs work.
func (s *Service) Triage(ctx context.Context, id string, cmd TriageFinding, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.Triage(cmd.Note) })
}

// StartRemediation records that someone works on a fix.
func (s *Service) StartRemediation(ctx context.Context, id string, cmd StartRemediation, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.StartRemediation(cmd.Note) })
}

// Resolve marks the finding fixed.
func (s *Service) Resolve(ctx context.Context, id string, cmd ResolveFinding, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) {
		return f.Resolve(cmd.Reason, cmd.ScanID, s.now())
	})
}

// Reopen brings the finding back.
func (s *Service) Reopen(ctx context.Context, id string, cmd ReopenFinding, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.Reopen(cmd.Reason, "", s.now()) })
}

// MarkFalsePositive records that the finding is not real.
func (s *Service) MarkFalsePositive(ctx context.Context, id string, cmd MarkFalsePositive, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.MarkFalsePositive(cmd.Justification) })
}

// MarkDuplicate records that another finding covers this one.
func (s *Service) MarkDuplicate(ctx context.Context, id string, cmd MarkDuplicate, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.MarkDuplicate(cmd.DuplicateOf) })
}

// AcceptRisk accepts the finding until cmd.ExpiresAt.
func (s *Service) AcceptRisk(ctx context.Context, id string, cmd AcceptRisk, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) {
		return f.AcceptRisk(cmd.Approver, cmd.Justification, cmd.ExpiresAt, s.now())
	})
}

// Assign sets the owner; assigning the current owner appends nothing.
func (s *Service) Assign(ctx context.Context, id string, cmd AssignFinding, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.Assign(cmd.Owner) })
}

// Comment adds a note.
func (s *Service) Comment(ctx context.Context, id string, cmd CommentFinding, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.Comment(cmd.Comment) })
}

// SetDueDate sets the remediation deadline.
func (s *Service) SetDueDate(ctx context.Context, id string, cmd SetDueDate, inv es.Invocation) (es.Outcome, error) {
	return s.run(ctx, id, inv, func(f *domain.Finding) ([]es.Change, error) { return f.SetDueDate(cmd.DueAt, cmd.Reason) })
}
