package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	assetdomain "github.com/socplatform/soc/commands/assets/domain"
	"github.com/socplatform/soc/commands/bus"
	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/domain"
	vulndomain "github.com/socplatform/soc/commands/vulns/domain"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Commands the flow sagas send to the planner; their payloads are declared by
// schemas/commands/notifications (contracts.Notify*). Every payload names what the planner reads
// back from the store, so a message always shows the state at sending time, and the saga's state
// stays small.
const (
	CmdNewFindings           = contracts.CmdNotifyNewFindings
	CmdKEVAlert              = contracts.CmdNotifyKEVAlert
	CmdSLAReminder           = contracts.CmdNotifySLAReminder
	CmdSLABreach             = contracts.CmdNotifySLABreach
	CmdRiskAcceptanceExpired = contracts.CmdNotifyRiskAcceptanceExpired
	CmdKEVAlertsForAsset     = contracts.CmdNotifyKEVAlertsForAsset // the asset became a production asset
)

// DefaultSLADigestWindow is PlannerConfig.SLADigestWindow's default: short, so an escalation
// waits little, and long enough to gather the breaches one import or one timer pass finds.
const DefaultSLADigestWindow = time.Minute

// MaxFindingsPerMessage bounds the findings listed in one new-findings message; the rest are
// counted (a scan of a fresh network can open thousands).
const MaxFindingsPerMessage = 200

// assetFindings lists an asset's open KEV-listed findings (the scan importer's index holds them).
type assetFindings interface {
	OpenKEVFindings(assetID string) []string
}

// eventQuerier finds a scan's findings by the import's correlation id (indexed in the store).
type eventQuerier interface {
	QueryEvents(ctx context.Context, q events.EventQuery) ([]events.Envelope, error)
}

// PlannerConfig configures a Planner.
type PlannerConfig struct {
	Store   es.Store
	Querier eventQuerier
	Service *Service
	// People is who is notified (the identity context's users and teams); nil: Dir.
	People People
	// Dir is the directory file (--notify-directory), used when People is nil.
	Dir *Directory
	// Channels are the configured channels: requests are recorded for these only (nothing is
	// queued for a channel nobody configured). ChannelWebSocket is always available.
	Channels []string
	// BaseURL, when set, links messages to the finding (BaseURL + /v1/findings/{id}).
	BaseURL string
	// AssetFindings answers CmdKEVAlertsForAsset; nil: that command fails (it needs the process
	// that imports scans).
	AssetFindings assetFindings
	// SLADigestWindow coalesces SLA breach escalations: the breaches one recipient is told about
	// within one window (aligned on multiples of it) reach them as one digest listing them, not
	// one message per finding — a first import of an old backlog breaches hundreds at once.
	// Default DefaultSLADigestWindow; negative: every escalation on its own.
	SLADigestWindow time.Duration
	Log             *slog.Logger
	Now             func() time.Time
}

// Planner turns the flow sagas' commands into notification requests: it reads the findings
// concerned from the store, picks the recipients from the directory and records one request per
// recipient and personal channel (one per trigger on the shared channels).
type Planner struct {
	cfg PlannerConfig
	log *slog.Logger
}

// assetInfo is what messages show of a finding's asset.
type assetInfo struct{ name, team, env string }

// NewPlanner validates cfg.
func NewPlanner(cfg PlannerConfig) (*Planner, error) {
	var errs []error
	if cfg.Store == nil || cfg.Querier == nil || cfg.Service == nil {
		errs = append(errs, errors.New("notifications planner: store, querier and service are required"))
	}
	if cfg.Dir == nil {
		cfg.Dir, _ = NewDirectory(Directory{})
	}
	if cfg.People == nil {
		cfg.People = cfg.Dir.People()
	}
	switch {
	case cfg.SLADigestWindow == 0:
		cfg.SLADigestWindow = DefaultSLADigestWindow
	case cfg.SLADigestWindow < 0:
		cfg.SLADigestWindow = 0
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if !slices.Contains(cfg.Channels, ChannelWebSocket) {
		cfg.Channels = append(slices.Clone(cfg.Channels), ChannelWebSocket)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Planner{cfg: cfg, log: cfg.Log.With("component", "notifications-planner")}, nil
}

// CommandError is a command the planner can never carry out (it names no finding): retrying is
// useless. (A payload its schema refuses never reaches the planner: the bus refuses it.)
type CommandError struct {
	Type   string
	Reason string
}

func (e *CommandError) Error() string { return e.Type + ": " + e.Reason }

// Kind implements the typed-error convention (the saga dispatcher records it as failed).
func (e *CommandError) Kind() problem.Kind { return problem.KindRejected }

// RegisterCommands registers the planner's handlers of the notifications commands on b. Every
// handler takes the command's id as its idempotency key: it is the trigger of the notifications,
// so a redelivered command records nothing new.
func RegisterCommands(b *bus.Bus, p *Planner) error {
	return errors.Join(
		bus.Register(b, CmdNewFindings, p.notifyNewFindings),
		bus.Register(b, CmdKEVAlertsForAsset, p.notifyKEVAlertsForAsset),
		bus.Register(b, CmdKEVAlert, p.notifyKEVAlert),
		bus.Register(b, CmdSLAReminder, p.notifySLAReminder),
		bus.Register(b, CmdSLABreach, p.notifySLABreach),
		bus.Register(b, CmdRiskAcceptanceExpired, p.notifyRiskAcceptanceExpired),
	)
}

func (p *Planner) notifyNewFindings(ctx context.Context, _ string, c contracts.NotifyNewFindings) error {
	return p.newFindings(ctx, c.ScanID)
}

func (p *Planner) notifyKEVAlertsForAsset(ctx context.Context, id string, c contracts.NotifyKEVAlertsForAsset) error {
	if p.cfg.AssetFindings == nil {
		return errors.New(CmdKEVAlertsForAsset + ": this process does not import scans (run the commands target beside the sagas)")
	}
	var errs []error
	for _, fid := range p.cfg.AssetFindings.OpenKEVFindings(c.AssetID) {
		f, err := p.loadFinding(ctx, fid)
		if err != nil || f == nil {
			errs = append(errs, err)
			continue
		}
		// One trigger per finding of this command: a redelivery records nothing new.
		errs = append(errs, p.kevAlert(ctx, CmdKEVAlertsForAsset+"|"+id+"|"+fid, f))
	}
	return errors.Join(errs...)
}

func (p *Planner) notifyKEVAlert(ctx context.Context, id string, c contracts.NotifyKEVAlert) error {
	f, err := p.commandFinding(ctx, CmdKEVAlert, c.FindingID)
	if err != nil {
		return err
	}
	return p.kevAlert(ctx, CmdKEVAlert+"|"+id, f)
}

func (p *Planner) notifySLAReminder(ctx context.Context, id string, c contracts.NotifySLAReminder) error {
	f, err := p.commandFinding(ctx, CmdSLAReminder, c.FindingID)
	if err != nil {
		return err
	}
	if !f.open() || !f.DueAt.Equal(c.DueAt) {
		return nil // remediated, accepted or rescheduled since the timer was set
	}
	data := map[string]any{"Finding": f.view(p.cfg.BaseURL), "DueAt": c.DueAt.UTC(), "Remaining": roundDuration(c.DueAt.Sub(p.cfg.Now()))}
	to, err := ownersOf(ctx, p.cfg.People, f.Owner, f.team)
	if err != nil {
		return err
	}
	return p.request(ctx, CmdSLAReminder+"|"+id, to, message{kind: channels.KindSLAReminder, severity: string(f.Severity), data: data})
}

func (p *Planner) notifySLABreach(ctx context.Context, id string, c contracts.NotifySLABreach) error {
	f, err := p.commandFinding(ctx, CmdSLABreach, c.FindingID)
	if err != nil {
		return err
	}
	if !f.SLABreachedFor.Equal(c.DueAt) {
		return nil // no breach recorded for that deadline: nothing to escalate
	}
	owner := f.Owner
	if owner == "" {
		owner = "team " + f.team
	}
	data := map[string]any{"Finding": f.view(p.cfg.BaseURL), "DueAt": c.DueAt.UTC(), "Owner": owner,
		"Overdue": roundDuration(p.cfg.Now().Sub(c.DueAt))}
	to, err := leadsOf(ctx, p.cfg.People, f.Owner, f.team)
	if err != nil {
		return err
	}
	m := message{kind: channels.KindSLABreach, severity: string(f.Severity), data: data, coalesce: p.cfg.SLADigestWindow}
	if m.coalesce > 0 { // the digest lists its items by subject; alone, the templates' subject is kept
		m.subject = fmt.Sprintf("SLA breached: %s on %s (owner %s, overdue %s)", cmpOr(f.title, f.ID), cmpOr(f.assetName, f.AssetID), owner, data["Overdue"])
	}
	return p.request(ctx, CmdSLABreach+"|"+id, to, m)
}

func (p *Planner) notifyRiskAcceptanceExpired(ctx context.Context, id string, c contracts.NotifyRiskAcceptanceExpired) error {
	f, err := p.commandFinding(ctx, CmdRiskAcceptanceExpired, c.FindingID)
	if err != nil {
		return err
	}
	data := map[string]any{"Finding": f.view(p.cfg.BaseURL), "AcceptedBy": c.AcceptedBy, "Reason": c.Justification, "ExpiredAt": c.ExpiredAt.UTC()}
	to, err := ownersOf(ctx, p.cfg.People, f.Owner, f.team)
	if err != nil {
		return err
	}
	return p.request(ctx, CmdRiskAcceptanceExpired+"|"+id, to, message{kind: channels.KindRiskAcceptanceExpired, severity: string(f.Severity), data: data})
}

// commandFinding loads the finding a command of type typ names; one that does not exist is a
// CommandError.
func (p *Planner) commandFinding(ctx context.Context, typ, findingID string) (*findingState, error) {
	f, err := p.loadFinding(ctx, findingID)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, &CommandError{Type: typ, Reason: "no such finding: " + findingID}
	}
	return f, nil
}

// message is what one planner command tells its recipients.
type message struct {
	kind, severity, subject string
	data                    map[string]any
	coalesce                time.Duration // Request.Coalesce
}

// request records one notification per recipient and personal channel, and one per shared
// channel.
func (p *Planner) request(ctx context.Context, trigger string, to []Person, m message) error {
	kind, severity, data := m.kind, m.severity, m.data
	if severity == "" {
		severity = "info"
	}
	meta := es.Meta{Actor: es.ActorOf(ctx, "system:notifications"), CorrelationID: trigger}
	var errs []error
	for _, u := range to {
		for _, ch := range u.channelsOf() {
			if !slices.Contains(p.cfg.Channels, ch) {
				continue
			}
			_, err := p.cfg.Service.Request(ctx, Request{Trigger: trigger, Recipient: u.Recipient(), Channel: ch, Kind: kind,
				Severity: severity, Subject: m.subject, Data: data, Coalesce: m.coalesce, Meta: meta})
			errs = append(errs, err)
		}
	}
	for _, ch := range p.cfg.Channels {
		if !SharedChannel(ch) {
			continue
		}
		names := make([]string, 0, len(to))
		for _, u := range to {
			names = append(names, cmpOr(u.Name, u.ID))
		}
		rcpt := channels.Recipient{Name: cmpOr(strings.Join(names, ", "), "security team")}
		if len(to) == 1 {
			rcpt.UserID = to[0].ID
		}
		_, err := p.cfg.Service.Request(ctx, Request{Trigger: trigger, Recipient: rcpt, Channel: ch, Kind: kind,
			Severity: severity, Subject: m.subject, Data: data, Coalesce: m.coalesce, Meta: meta})
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// newFindings tells the owners of a scan's new and reopened critical/high findings about them:
// one message per recipient listing theirs, and one per shared channel listing all.
func (p *Planner) newFindings(ctx context.Context, scanID string) error {
	scan, err := p.loadScan(ctx, scanID)
	if err != nil {
		return err
	}
	ids, err := p.scanFindings(ctx, scanID)
	if err != nil {
		return err
	}
	type group struct {
		user  Person
		items []map[string]any
		worst string
	}
	groups := map[string]*group{}
	var order []string
	var all []map[string]any
	worst := ""
	assets := map[string]assetInfo{}
	for _, id := range ids {
		f, err := p.loadFindingCached(ctx, id, assets)
		if err != nil {
			return err
		}
		if f == nil || !f.open() || (f.Severity != vulndomain.Critical && f.Severity != vulndomain.High) {
			continue
		}
		v := f.view(p.cfg.BaseURL)
		all = append(all, v)
		worst = worse(worst, string(f.Severity))
		owners, err := ownersOf(ctx, p.cfg.People, f.Owner, f.team)
		if err != nil {
			return err
		}
		for _, u := range owners {
			g := groups[u.ID]
			if g == nil {
				g = &group{user: u}
				groups[u.ID] = g
				order = append(order, u.ID)
			}
			g.items = append(g.items, v)
			g.worst = worse(g.worst, string(f.Severity))
		}
	}
	if len(all) == 0 {
		return nil
	}
	trigger := CmdNewFindings + "|" + scanID
	meta := es.Meta{Actor: es.ActorOf(ctx, "system:notifications"), CorrelationID: scanID}
	msg := func(items []map[string]any) map[string]any {
		d := map[string]any{"Scan": scan, "Total": len(items)}
		if len(items) > MaxFindingsPerMessage {
			d["Omitted"] = len(items) - MaxFindingsPerMessage
			items = items[:MaxFindingsPerMessage]
		}
		d["Findings"] = items
		return d
	}
	var errs []error
	for _, uid := range order {
		g := groups[uid]
		for _, ch := range g.user.channelsOf() {
			if !slices.Contains(p.cfg.Channels, ch) {
				continue
			}
			_, err := p.cfg.Service.Request(ctx, Request{Trigger: trigger, Recipient: g.user.Recipient(), Channel: ch,
				Kind: channels.KindNewFindings, Severity: g.worst, Data: msg(g.items), Meta: meta})
			errs = append(errs, err)
		}
	}
	for _, ch := range p.cfg.Channels {
		if SharedChannel(ch) {
			_, err := p.cfg.Service.Request(ctx, Request{Trigger: trigger, Recipient: channels.Recipient{Name: "security team"},
				Channel: ch, Kind: channels.KindNewFindings, Severity: worst, Data: msg(all), Meta: meta})
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// kevAlert alerts the owners of an open finding with a KEV-listed CVE on a production asset.
func (p *Planner) kevAlert(ctx context.Context, trigger string, f *findingState) error {
	if !f.open() || !f.KEV || f.env != string(assetdomain.Production) {
		return nil
	}
	kev := map[string]any{}
	for _, cve := range f.cves {
		evs, err := p.readAll(ctx, es.StreamIDFor("vulns", "cve", cve))
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.Type != contracts.TypeCVEListedInKEV {
				continue
			}
			var d contracts.CVEListedInKEV
			if json.Unmarshal(e.Data, &d) == nil {
				kev = map[string]any{"CVE": cve, "VulnerabilityName": d.VulnerabilityName, "DateAdded": d.DateAdded, "DueDate": d.DueDate,
					"KnownRansomware": cmpOr(d.KnownRansomwareCampaignUse, "Unknown")}
			}
		}
		if len(kev) > 0 {
			break
		}
	}
	v := f.view(p.cfg.BaseURL)
	if c, ok := kev["CVE"].(string); ok {
		v["CVE"] = c // the alert names the exploited CVE, not just the first one
	}
	data := map[string]any{"Finding": v, "KEV": kev}
	to, err := ownersOf(ctx, p.cfg.People, f.Owner, f.team)
	if err != nil {
		return err
	}
	return p.request(ctx, trigger, to, message{kind: channels.KindKEVAlert, severity: "critical", data: data})
}

// findingState is a finding as the planner needs it: the aggregate plus what its messages show.
type findingState struct {
	vulndomain.Finding
	title, location string
	cves            []string
	assetName, team string
	env             string
}

func (f *findingState) open() bool {
	switch f.Status {
	case vulndomain.StatusOpen, vulndomain.StatusTriaged, vulndomain.StatusInRemediation, vulndomain.StatusReopened:
		return true
	}
	return false
}

func (f *findingState) view(baseURL string) map[string]any {
	v := map[string]any{"ID": f.ID, "Title": f.title, "Severity": string(f.Severity), "Asset": cmpOr(f.assetName, f.AssetID),
		"AssetID": f.AssetID, "Status": string(f.Status), "Owner": f.Owner}
	if len(f.cves) > 0 {
		v["CVE"] = f.cves[0]
		v["CVEs"] = f.cves
	}
	if f.location != "" {
		v["Location"] = f.location
	}
	if !f.DueAt.IsZero() {
		v["DueAt"] = f.DueAt.UTC()
	}
	if baseURL != "" {
		v["URL"] = strings.TrimRight(baseURL, "/") + "/v1/findings/" + f.ID
	}
	return v
}

// loadFinding folds a finding and its asset from the store (nil when the finding does not exist).
func (p *Planner) loadFinding(ctx context.Context, id string) (*findingState, error) {
	return p.loadFindingCached(ctx, id, nil)
}

// loadFindingCached is loadFinding with a cache of assets for commands that load many findings
// of the same few assets.
func (p *Planner) loadFindingCached(ctx context.Context, id string, assets map[string]assetInfo) (*findingState, error) {
	evs, err := p.readAll(ctx, id)
	if err != nil || len(evs) == 0 {
		return nil, err
	}
	f := &findingState{}
	for i := range evs {
		if err := f.Apply(&evs[i]); err != nil {
			return nil, err
		}
		if evs[i].Type == contracts.TypeFindingOpened {
			var d contracts.FindingOpened
			if err := json.Unmarshal(evs[i].Data, &d); err != nil {
				return nil, err
			}
			f.title, f.cves = d.Title, d.CVEs
			f.location = locationText(d.Location)
		}
	}
	if !f.Exists() {
		return nil, nil
	}
	if f.AssetID != "" {
		ai, ok := assets[f.AssetID]
		if !ok {
			var a assetdomain.Asset
			if _, err := es.Load(ctx, p.cfg.Store, f.AssetID, &a); err != nil {
				return nil, err
			}
			ai = assetInfo{name: a.Name, team: a.OwnerTeam, env: string(a.Environment)}
			if assets != nil {
				assets[f.AssetID] = ai
			}
		}
		f.assetName, f.team, f.env = ai.name, ai.team, ai.env
	}
	return f, nil
}

// locationText renders a finding's location briefly: host, port, protocol, url and file.
func locationText(l *contracts.FindingOpenedLocation) string {
	if l == nil {
		return ""
	}
	var parts []string
	add := func(v string) {
		if v != "" {
			parts = append(parts, v)
		}
	}
	add(l.Host)
	if l.Port != nil {
		add(strconv.Itoa(*l.Port))
	}
	add(l.Protocol)
	add(l.URL)
	add(l.File)
	return strings.Join(parts, " ")
}

func (p *Planner) readAll(ctx context.Context, stream string) ([]events.Envelope, error) {
	var out []events.Envelope
	from := int64(1)
	for {
		evs, err := p.cfg.Store.ReadStream(ctx, stream, events.ReadStreamOptions{From: from})
		if errors.Is(err, events.ErrStreamNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, evs...)
		if len(evs) < events.MaxReadLimit {
			return out, nil
		}
		from = evs[len(evs)-1].Version + 1
	}
}

// scanFindings lists the findings a scan's import opened or reopened, in order, once each: the
// import stamps the scan id as the correlation id of every event it appends. Findings the scan
// opened below high severity are left out without loading them (most of a large scan).
func (p *Planner) scanFindings(ctx context.Context, scanID string) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	var after int64
	for {
		evs, err := p.cfg.Querier.QueryEvents(ctx, events.EventQuery{CorrelationID: scanID,
			Types: []string{contracts.TypeFindingOpened, contracts.TypeFindingReopened}, After: after, Limit: events.MaxQueryLimit})
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			after = e.GlobalPosition
			if seen[e.StreamID] {
				continue
			}
			seen[e.StreamID] = true
			if e.Type == contracts.TypeFindingOpened {
				var d contracts.FindingOpened
				if json.Unmarshal(e.Data, &d) == nil && d.Severity != vulndomain.Critical && d.Severity != vulndomain.High {
					continue
				}
			}
			ids = append(ids, e.StreamID)
		}
		if len(evs) < events.MaxQueryLimit {
			return ids, nil
		}
	}
}

// loadScan describes a scan from its import stream (scanner, when it completed).
func (p *Planner) loadScan(ctx context.Context, scanID string) (map[string]any, error) {
	evs, err := p.readAll(ctx, "scans-import-"+scanID)
	if err != nil {
		return nil, err
	}
	scan := map[string]any{"ID": scanID, "Name": scanID}
	for _, e := range evs {
		switch e.Type {
		case contracts.TypeScanImportStarted:
			var d contracts.ScanImportStarted
			if json.Unmarshal(e.Data, &d) == nil {
				scan["Scanner"] = cmpOr(d.ScannerName, d.Format)
				scan["Name"] = cmpOr(d.ScannerName, d.Format) + " " + scanID
			}
		case contracts.TypeScanImportCompleted:
			scan["CompletedAt"] = e.RecordedAt.UTC()
		}
	}
	return scan, nil
}

func worse(a, b string) string {
	if domain.SeverityRank(b) > domain.SeverityRank(a) {
		return b
	}
	return a
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// roundDuration prints a duration for people: "3d 4h", "5h 12m", "42m".
func roundDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
}
