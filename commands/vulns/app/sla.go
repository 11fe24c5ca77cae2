package app

import (
	"context"
	"errors"
	"time"

	"github.com/socplatform/soc/commands/bus"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
)

// RegisterCommands registers the handlers of the finding deadline commands the sagas send (the
// SLA breach and the risk acceptance's expiry) on b. They decide on the finding's state in store
// at now(), so a redelivered command, or one overtaken by a change to the finding, appends
// nothing.
func RegisterCommands(b *bus.Bus, store es.Store, now func() time.Time) error {
	return errors.Join(
		bus.Register(b, contracts.CmdRecordSLABreach, func(ctx context.Context, _ string, c contracts.RecordSLABreach) error {
			_, err := RecordSLABreach(ctx, store, c.FindingID, c.DueAt, now())
			return err
		}),
		bus.Register(b, contracts.CmdExpireRiskAcceptance, func(ctx context.Context, _ string, c contracts.ExpireRiskAcceptance) error {
			_, err := ExpireRiskAcceptance(ctx, store, c.FindingID, now())
			return err
		}),
	)
}

// RecordSLABreach appends SLABreached to a finding whose deadline dueAt passed unremediated.
// It is idempotent: the finding remembers the breached deadline and the idempotency key derives
// from it, so a redelivered saga command (or two nodes) record the breach once. It reports
// whether it appended; a finding remediated meanwhile, or whose due date moved, is left alone.
func RecordSLABreach(ctx context.Context, store es.Store, findingID string, dueAt, now time.Time) (bool, error) {
	for range 3 { // a concurrent change to the finding: decide again on its new state
		var f domain.Finding
		v, err := es.Load(ctx, store, findingID, &f)
		if err != nil {
			return false, err
		}
		changes, err := f.BreachSLA(dueAt, now)
		if err != nil || len(changes) == 0 {
			return false, err
		}
		meta := es.Meta{Actor: es.ActorOf(ctx, "system:sla"), IdempotencyKey: "sla-breach:" + dueAt.UTC().Format(time.RFC3339Nano)}
		res, err := es.Save(ctx, store, findingID, events.Exact(v), meta, changes)
		var vc *events.VersionConflictError
		if errors.As(err, &vc) {
			continue
		}
		// Duplicate: that deadline's breach was recorded before (its due date moved away and back).
		return err == nil && !res.Duplicate, err
	}
	return false, errors.New("sla breach: the finding kept changing; the saga retries")
}
