package app

import (
	"context"
	"errors"
	"time"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
)

// ExpireRiskAcceptance reopens one finding whose risk acceptance has run out. It is idempotent:
// the event id derives from the finding and the acceptance's expiry, so two nodes (or a retry)
// sweeping the same finding append once; a finding no longer accepted is left alone.
func ExpireRiskAcceptance(ctx context.Context, store es.Store, findingID string, now time.Time) (bool, error) {
	var f domain.Finding
	v, err := es.Load(ctx, store, findingID, &f)
	if err != nil {
		return false, err
	}
	if !f.Exists() || f.Status != domain.StatusRiskAccepted || now.Before(f.RiskAcceptedTil) {
		return false, nil
	}
	changes, err := f.ExpireRiskAcceptance(now)
	if err != nil {
		return false, err
	}
	meta := es.Meta{Actor: es.ActorOf(ctx, "system:risk-acceptance-expiry"), IdempotencyKey: "risk-expiry:" + f.RiskAcceptedTil.UTC().Format(time.RFC3339Nano)}
	_, err = es.Save(ctx, store, findingID, events.Exact(v), meta, changes)
	var vc *events.VersionConflictError
	if errors.As(err, &vc) {
		return false, nil // changed meanwhile: the next sweep decides on the new state
	}
	return err == nil, err
}
