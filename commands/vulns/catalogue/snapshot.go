package catalogue

import (
	"context"
	"time"
	"unique"

	vulns "github.com/socplatform/soc/commands/vulns/domain"
)

// The catalogue's snapshot: its name in the snapshot directory and the version of
// catalogueState. Bump the version whenever catalogueState changes meaning: an old snapshot is
// then ignored and the lookup rebuilt from $all.
const (
	snapshotName    = "vulns-catalogue"
	snapshotVersion = 2 // 2: findings' asset and status
)

// catalogueState is what a snapshot holds. The per-stream versions it carries make the events
// replayed after a restore that it already includes (its own appends, applied at once) no-ops.
// The findings pending enrichment are not kept: after a restart every finding with CVEs is
// pending, as it is after a full replay.
type catalogueState struct {
	CVEs     map[string]cveSnap
	Findings map[string]findingSnap
}

type cveSnap struct {
	Version      int64
	NVD          bool
	LastModified time.Time
	KEV, HasEPSS bool
	EPSS, Pct    float64
	ScoreDate    time.Time
}

type findingSnap struct {
	Version   int64
	CVEs      []string
	KEV       bool
	HasEPSS   bool
	EPSS, Pct float64
	AssetID   string
	Status    vulns.Status
}

// restore loads the snapshot into the empty lookup, once, before the first sync. Callers hold c.mu.
func (c *Catalogue) restore(ctx context.Context) error {
	if c.restored || c.cursor.Position != 0 || !c.opts.Snapshots.Enabled() {
		c.restored = true
		return nil
	}
	c.restored = true
	var st catalogueState
	at, ok, err := c.opts.Snapshots.Load(ctx, c.store, snapshotName, snapshotVersion, &st)
	if err != nil || !ok {
		return err
	}
	for id, s := range st.CVEs {
		c.cves[id] = &cveState{version: s.Version, nvd: s.NVD, lastModified: s.LastModified, kev: s.KEV,
			hasEPSS: s.HasEPSS, epss: s.EPSS, pct: s.Pct, scoreDate: s.ScoreDate}
	}
	for id, s := range st.Findings {
		c.findings[id] = &findingState{version: s.Version, cves: s.CVEs, kev: s.KEV, hasEPSS: s.HasEPSS, epss: s.EPSS, pct: s.Pct,
			asset: unique.Make(s.AssetID).Value(), status: s.Status}
		for _, cve := range s.CVEs {
			set := c.byCVE[cve]
			if set == nil {
				set = map[string]struct{}{}
				c.byCVE[cve] = set
			}
			set[id] = struct{}{}
		}
		if len(s.CVEs) > 0 {
			c.pending[id] = struct{}{}
		}
	}
	c.cursor = at
	c.snapTrack.Saved(at.Position, time.Now())
	return nil
}

// SaveSnapshot writes a snapshot of the lookup as far as it has read $all (a no-op without
// Options.Snapshots or when nothing changed since the last one). Call it at shutdown.
func (c *Catalogue) SaveSnapshot() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.snapTrack.Changed(c.cursor.Position) {
		return nil
	}
	return c.saveSnapshot()
}

// snapshotIfDue writes a snapshot when the policy says so. A failure is only a slower next
// start: it is logged. Callers hold c.mu.
func (c *Catalogue) snapshotIfDue() {
	if !c.opts.Snapshots.Enabled() || !c.snapTrack.Due(c.cursor.Position, time.Now()) {
		return
	}
	if err := c.saveSnapshot(); err != nil {
		c.opts.Snapshots.Logger().Warn("the CVE catalogue's snapshot could not be written", "err", err)
	}
}

// saveSnapshot writes the lookup. Callers hold c.mu, so the state covers every event up to the
// cursor (and possibly own appends beyond it, which the versions make harmless).
func (c *Catalogue) saveSnapshot() error {
	if !c.opts.Snapshots.Enabled() {
		return nil
	}
	st := catalogueState{CVEs: make(map[string]cveSnap, len(c.cves)), Findings: make(map[string]findingSnap, len(c.findings))}
	for id, s := range c.cves {
		st.CVEs[id] = cveSnap{Version: s.version, NVD: s.nvd, LastModified: s.lastModified, KEV: s.kev,
			HasEPSS: s.hasEPSS, EPSS: s.epss, Pct: s.pct, ScoreDate: s.scoreDate}
	}
	for id, s := range c.findings {
		st.Findings[id] = findingSnap{Version: s.version, CVEs: s.cves, KEV: s.kev, HasEPSS: s.hasEPSS, EPSS: s.epss, Pct: s.pct,
			AssetID: s.asset, Status: s.status}
	}
	if err := c.opts.Snapshots.Save(snapshotName, snapshotVersion, c.cursor, &st); err != nil {
		return err
	}
	c.snapTrack.Saved(c.cursor.Position, time.Now())
	return nil
}
