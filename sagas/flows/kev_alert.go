package flows

import (
	"context"
	"encoding/json"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/schemas/contracts"
)

// KEVAlert raises an immediate critical alert when a finding with a KEV-listed CVE sits on a
// production asset, whichever comes last:
//   - the CVE catalogue marks a finding KEV (FindingExploitabilityChanged kev=true) right after
//     the import that opened it, or when CISA lists its CVE later: one instance per finding,
//     notifications.kev_alert; the planner sends it only if the finding is still open and its
//     asset is in production (read at sending time);
//   - an asset becomes a production asset (AssetClassified environment=production, when it was
//     not): one instance per asset ("asset|<id>", created only for production assets),
//     notifications.kev_alerts_for_asset, which alerts for its open KEV findings.
type KEVAlert struct{}

// Name implements sagas.Saga.
func (KEVAlert) Name() string { return "kev_alert" }

// Contexts implements sagas.Saga.
func (KEVAlert) Contexts() []string { return []string{"vulns", "assets"} }

type exploitability struct {
	KEV *bool `json:"kev"`
}

// Correlate implements sagas.Saga: only a KEV listing starts or moves an instance (EPSS updates
// are frequent and must not create one per finding).
func (KEVAlert) Correlate(e *events.Envelope) (string, bool) {
	if e.Type == contracts.TypeAssetRegistered || e.Type == contracts.TypeAssetClassified {
		if d, err := decode[assetEnvironment](e.Data); err == nil && d.Environment != "" {
			return "asset|" + e.StreamID, true
		}
		return "", false
	}
	if e.Type != contracts.TypeFindingExploitabilityChanged || !isFinding(e) {
		return "", false
	}
	d, err := decode[exploitability](e.Data)
	if err != nil || d.KEV == nil || !*d.KEV {
		return "", false
	}
	return e.StreamID, true
}

type kevState struct {
	Alerts     int  `json:"alerts"`
	Production bool `json:"production,omitempty"` // asset instances: the asset is in production
}

type assetEnvironment struct {
	Environment string `json:"environment"`
}

// Handle implements sagas.Saga.
func (KEVAlert) Handle(_ context.Context, raw json.RawMessage, e events.Envelope, _ time.Time) (sagas.Decision, error) {
	st, err := decode[kevState](raw)
	if err != nil {
		return sagas.Decision{}, err
	}
	if e.Type == contracts.TypeAssetRegistered || e.Type == contracts.TypeAssetClassified {
		d, err := decode[assetEnvironment](e.Data)
		if err != nil {
			return sagas.Decision{}, err
		}
		prod := d.Environment == "production"
		switch {
		case raw == nil && !prod:
			return sagas.Decision{}, nil // no instance for assets that were never in production
		case prod == st.Production:
			return sagas.Decision{}, nil
		}
		st.Production = prod
		dec := sagas.Decision{State: state(st)}
		// A registered asset has no findings yet; a classified one may have KEV findings already.
		if prod && e.Type == contracts.TypeAssetClassified {
			st.Alerts++
			dec.State = state(st)
			dec.Commands = []sagas.CommandRequest{{Type: CmdNotifyKEVAlertsForAsset, Payload: contracts.NotifyKEVAlertsForAsset{AssetID: e.StreamID}}}
		}
		return dec, nil
	}
	st.Alerts++
	return sagas.Decision{
		State:    state(st),
		Commands: []sagas.CommandRequest{{Type: CmdNotifyKEVAlert, Payload: contracts.NotifyKEVAlert{FindingID: e.StreamID}}},
	}, nil
}
