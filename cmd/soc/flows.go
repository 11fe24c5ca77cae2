package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/socplatform/soc/commands/bus"
	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/commands/notifications/channels"
	notifyports "github.com/socplatform/soc/commands/notifications/ports"
	scanapp "github.com/socplatform/soc/commands/scans/app"
	vulnapp "github.com/socplatform/soc/commands/vulns/app"
	"github.com/socplatform/soc/commands/vulns/catalogue"
	"github.com/socplatform/soc/query-api/ws"
	"github.com/socplatform/soc/sagas"
	"github.com/socplatform/soc/sagas/flows"
	"github.com/socplatform/soc/schemas"
	"github.com/socplatform/soc/schemas/access"
)

// notificationChannels builds the senders of the configured channels (--smtp-*,
// --slack-webhook-url, --teams-webhook-url, --webhook-*, --sms-* and their SOC_* variables).
// A channel whose settings are unset is absent: nothing is sent anywhere unless configured. A
// channel set but invalid was already refused by Config.Validate with every other problem; the
// constructors check again for callers that skip it.
func notificationChannels(cfg ChannelsConfig, tmpl *channels.Templates) (map[string]channels.Sender, error) {
	// cfg is this call's copy: every channel renders with tmpl.
	cfg.SMTP.Templates, cfg.Slack.Templates, cfg.Teams.Templates, cfg.Webhook.Templates, cfg.SMS.Templates = tmpl, tmpl, tmpl, tmpl, tmpl
	out := map[string]channels.Sender{}
	var errs []error
	addChannel(out, &errs, channels.ChannelEmail, cfg.SMTP, channels.NewSMTP)
	addChannel(out, &errs, channels.ChannelSlack, cfg.Slack, channels.NewSlack)
	addChannel(out, &errs, channels.ChannelTeams, cfg.Teams, channels.NewTeams)
	addChannel(out, &errs, channels.ChannelWebhook, cfg.Webhook, channels.NewWebhook)
	addChannel(out, &errs, channels.ChannelSMS, cfg.SMS, channels.NewSMS)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// addChannel adds the sender of one channel to out when its settings are set (c.Configured),
// keeping the constructor's error with the others' so that all are reported at once.
func addChannel[C interface{ Configured() bool }, S channels.Sender](out map[string]channels.Sender, errs *[]error, name string, c C, build func(C) (S, error)) {
	if !c.Configured() {
		return
	}
	s, err := build(c)
	*errs = append(*errs, err)
	out[name] = s
}

// configuredChannels lists the channels the configuration sets up, plus the WebSocket push:
// the planner records requests for these only. It builds the same senders as the notifier, so
// both agree on what "configured" means (and a bad configuration is refused here too).
func configuredChannels(cfg ChannelsConfig) ([]string, error) {
	senders, err := notificationChannels(cfg, channels.DefaultTemplates())
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(senders)+1)
	for name := range senders {
		out = append(out, name)
	}
	sort.Strings(out)
	return append(out, notifyapp.ChannelWebSocket), nil
}

func (a *app) notifyTemplates() (*channels.Templates, error) {
	if a.cfg.NotifyTemplates == "" {
		return channels.DefaultTemplates(), nil
	}
	t, err := channels.LoadTemplates(a.cfg.NotifyTemplates)
	if err != nil {
		return nil, fmt.Errorf("--notify-templates/SOC_NOTIFY_TEMPLATES: %w", err)
	}
	return t, nil
}

// bearerUser names the user of a notification WebSocket session: the principal the access
// middleware authenticated (from the bearer, or a ticket for browsers), or its user for an API
// token (notifyports.Caller). Nothing else is a credential here. With a directory file (dir not
// nil) notifications are addressed to its ids: a signed-in user is the file's person with their
// email.
func bearerUser(dir *notifyapp.Directory) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		user, p, err := notifyports.Caller(r)
		if err != nil || dir == nil {
			return user, err
		}
		if p.Kind != access.KindUser {
			return "", errors.New("with --notify-directory, notifications are delivered to signed-in users, not to API tokens")
		}
		if u := dir.User(p.Name); u != nil {
			return u.ID, nil
		}
		return "", errors.New("the notification directory (--notify-directory) has nobody with this user's email")
	}
}

// startNotifier delivers notifications: the worker follows the store, sends what is due on
// each configured channel with retries and backoff, and dead-letters what keeps failing. The
// users' WebSocket sessions connect to /v1/notifications/ws.
func startNotifier(ctx context.Context, a *app, in inputs) (any, readiness, error) {
	who := recipientsOf(a, in.directory(), in.identity())
	tmpl, err := a.notifyTemplates()
	if err != nil {
		return nil, nil, err
	}
	senders, err := notificationChannels(a.cfg.Channels, tmpl)
	if err != nil {
		return nil, nil, err
	}
	hub := ws.NewHub(ws.Config{Log: a.log, Authenticate: bearerUser(who.file)})
	push := map[string]channels.Sender{notifyapp.ChannelWebSocket: notifyapp.NewWebSocketSender(hub, tmpl)}
	maps.Copy(senders, push)
	a.mux.Handle("GET /v1/notifications/ws", hub)
	inbox, err := notifyapp.NewInbox(notifyapp.InboxConfig{Store: a.store, Templates: tmpl})
	if err != nil {
		return nil, nil, err
	}
	notifyports.Register(a.mux, inbox, a.log)
	a.closers = append(a.closers, hub.Close)
	w, err := notifyapp.NewWorker(notifyapp.WorkerConfig{Store: a.store, Senders: senders, Preferences: who.prefs, Logger: a.log,
		MaxAttempts: a.cfg.NotifyMaxAttempts, BaseBackoff: a.cfg.NotifyBackoff, MaxBackoff: a.cfg.NotifyMaxBackoff, Jitter: 0.2, AttemptTimeout: a.cfg.NotifyAttemptTimeout,
		Snapshots: snapshotDir(a)})
	if err != nil {
		return nil, nil, err
	}
	hot := a.newHotChannels(w, tmpl, senders, push) // the channel settings change with Consul KV
	a.log.Info("notification channels", "configured", strings.Join(hot.configured(), ","))
	var lastErr atomic.Value
	a.supervise(ctx, "notifier", &lastErr, w.Run)
	a.wg.Add(1)
	go func() { defer a.wg.Done(); <-ctx.Done(); w.Wait() }()
	return nil, func(context.Context) (any, bool) {
		pending, digests := w.Pending()
		d := map[string]any{"pending": pending, "digests": digests, "channels": hot.configured(), "sessions": hub.Clients()}
		if e, ok := lastErr.Load().(string); ok {
			d["last_error"] = e
		}
		return d, true
	}, nil
}

// commandBus builds the bus that carries the sagas' commands to the handlers in this process:
// each context registers its own, typed by the command's schema. Every handler is idempotent on
// the command (its id is the notifications' trigger and the scan events' idempotency key, the
// vulns handlers decide on the finding's state), which the at-least-once dispatcher requires.
// scans nil (no commands target in this process) registers the scan commands failing with that
// reason.
func commandBus(a *app, planner *notifyapp.Planner, scans *scanapp.Orchestrator) (*bus.Bus, error) {
	b, err := bus.New(schemas.CommandsFS())
	if err != nil {
		return nil, err
	}
	if err := errors.Join(
		notifyapp.RegisterCommands(b, planner),
		scanapp.RegisterCommands(b, scans),
		vulnapp.RegisterCommands(b, a.store, time.Now),
	); err != nil {
		return nil, err
	}
	return b, nil
}

// startSagas runs the process managers: the runtime follows the store (in both modes: the
// store is the source of truth and orders events globally), the dispatcher sends their commands
// to the handlers, the timer service fires their durable timers.
func startSagas(ctx context.Context, a *app, in inputs) (any, readiness, error) {
	chans, err := configuredChannels(a.cfg.Channels)
	if err != nil {
		return nil, nil, err
	}
	write := in.writeSide()
	rt, d, err := newSagaStack(a, recipientsOf(a, in.directory(), in.identity()), write.scans, write.findings, chans)
	if err != nil {
		return nil, nil, err
	}
	ts := sagas.NewTimerService(rt, 0)
	errs := map[string]*atomic.Value{"runtime": {}, "dispatcher": {}, "timers": {}}
	a.supervise(ctx, "sagas", errs["runtime"], rt.Run)
	a.supervise(ctx, "saga-dispatcher", errs["dispatcher"], d.Run)
	a.supervise(ctx, "saga-timers", errs["timers"], ts.Run)
	return nil, func(context.Context) (any, bool) {
		det := map[string]any{"pending_commands": d.Pending(), "pending_timers": ts.Pending()}
		if next, ok := ts.Next(); ok {
			det["next_timer"] = next.UTC()
		}
		for n, v := range errs {
			if e, ok := v.Load().(string); ok {
				det[n+"_last_error"] = e
			}
		}
		return det, true
	}, nil
}

// newSagaStack builds the runtime of the platform's sagas and the dispatcher of their commands
// onto this process's handlers; the planner records requests for the channels chans to who.
// scans and findings are the commands target's orchestrator and CVE catalogue; nil (benchmarks)
// fails their commands.
func newSagaStack(a *app, who recipients, scans *scanapp.Orchestrator, findings *catalogue.Catalogue, chans []string) (*sagas.Runtime, *sagas.Dispatcher, error) {
	pc := notifyapp.PlannerConfig{Store: a.store, Querier: a.store,
		Service: notifyapp.NewService(a.store, who.prefs, nil), People: who.people, Dir: who.file, Channels: chans, BaseURL: a.cfg.PublicURL, Log: a.log}
	if findings != nil { // a nil *Catalogue in the interface would not read as "no lookup"
		pc.AssetFindings = findings
	}
	planner, err := notifyapp.NewPlanner(pc)
	if err != nil {
		return nil, nil, err
	}
	rt, err := sagas.New(sagas.Config{Store: a.store, Checkpoints: a.backend, Log: a.log, Sagas: platformSagas(a.cfg),
		Snapshots: snapshotDir(a)})
	if err != nil {
		return nil, nil, err
	}
	b, err := commandBus(a, planner, scans)
	if err != nil {
		return nil, nil, err
	}
	d, err := sagas.NewDispatcher(sagas.DispatcherConfig{Runtime: rt, Bus: sagaCommands(b)})
	if err != nil {
		return nil, nil, err
	}
	return rt, d, nil
}

// sagaCommands carries the sagas' commands to b's handlers, each acting as its saga: what a
// command appends carries system:<saga> as its actor.
func sagaCommands(b *bus.Bus) sagas.CommandBusFunc {
	return func(ctx context.Context, c sagas.Command) error {
		return b.Dispatch(access.With(ctx, access.System(c.Saga)), c.ID, c.Type, c.Payload)
	}
}

// platformSagas are the sagas a node runs.
func platformSagas(cfg *Config) []sagas.Saga {
	return []sagas.Saga{
		flows.NewFindings{},
		flows.KEVAlert{},
		flows.FindingDeadlines{ReminderBefore: cfg.SLAReminderBefore},
		flows.ScanSchedule{},
		flows.ScanRun{},
	}
}
