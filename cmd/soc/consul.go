package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/socplatform/soc/cmd/soc/internal/consul"
)

// ConsulConfig is the node's Consul connection: with --consul-addr the node registers its
// targets as services soc-<target> checked on /readyz, deregisters them on shutdown, and
// follows its hot configuration in the KV store under config/soc/<target>.
type ConsulConfig struct {
	Consul consul.Config
}

func (c *ConsulConfig) RegisterFlags(fs *flag.FlagSet) { c.Consul.RegisterFlags(fs) }
func (c *ConsulConfig) Validate() error                { return c.Consul.Validate() }

// reregisterEvery is how often a registered node checks that the agent still holds its
// services: an agent restarted without its state (a dev agent, a replaced machine) forgets them,
// and the node re-registers instead of silently leaving the rotation for good.
const reregisterEvery = 10 * time.Second

// hotKeyLogLevel is the KV setting the node itself applies without a restart.
const hotKeyLogLevel = "log_level"

// consulNode is the node's Consul state, shared by the targets through app.consulNode().
type consulNode struct {
	cfg    consul.Config
	log    *slog.Logger
	client *api.Client // nil without --consul-addr

	mu   sync.Mutex
	subs map[string][]configSub                // by target
	last map[string]map[string]json.RawMessage // the configuration last applied, by target
	cold map[string]map[string]bool            // keys no subscriber applies ("needs restart"), by target
	reg  struct {
		ids []string
		err string
	} // what /readyz shows of the registration
	// levels are the log levels the targets' configurations ask for; the node logs at the most
	// verbose of them (one logger serves every target), else at --log-level.
	levels map[string]slog.Level
}

// configSub is one subscriber of a target's hot configuration and the keys it applies.
type configSub struct {
	keys  []string
	apply func(map[string]json.RawMessage)
}

// consulNode returns the node's Consul state, created on first use (modules subscribe while
// they start, one after the other, before the node serves).
func (a *app) consulNode() *consulNode {
	if a.consul == nil {
		a.consul = &consulNode{cfg: a.cfg.Consul, log: a.log, subs: map[string][]configSub{},
			last: map[string]map[string]json.RawMessage{}, cold: map[string]map[string]bool{}, levels: map[string]slog.Level{}}
	}
	return a.consul
}

// onConfig subscribes apply to target's hot configuration (Consul KV config/soc/<target>): it
// is called with the whole object when the node first reads it and after every change, keys
// being the settings it applies; a key no subscriber of the target applies is reported as
// "needs restart". Without Consul it is never called. A subscriber added once the configuration
// is known is called with it at once.
func (a *app) onConfig(target string, keys []string, apply func(map[string]json.RawMessage)) {
	c := a.consulNode()
	c.mu.Lock()
	c.subs[target] = append(c.subs[target], configSub{keys: keys, apply: apply})
	last, ok := c.last[target]
	c.mu.Unlock()
	if ok {
		apply(last)
	}
}

// consulDiscovery returns a Watcher of the passing instances of targets' services (soc-<target>)
// running until the node's workers stop, or nil without Consul. A gateway routes with it
// (Watcher.TargetInstances).
func (a *app) consulDiscovery(ctx context.Context, targets []string) (*consul.Watcher, error) {
	c := a.consulNode()
	if err := c.open(); err != nil || c.client == nil {
		return nil, err
	}
	services := make([]string, 0, len(targets))
	for _, t := range targets {
		services = append(services, consul.ServiceName(t))
	}
	w := consul.NewWatcher(c.client, a.log, services, nil)
	a.wg.Add(1)
	go func() { defer a.wg.Done(); w.Run(ctx) }()
	return w, nil
}

// open creates the client once (a no-op without --consul-addr).
func (c *consulNode) open() error {
	if !c.cfg.Enabled() || c.client != nil {
		return nil
	}
	client, err := c.cfg.Client()
	if err != nil {
		return err
	}
	c.client = client
	return nil
}

// openConsul prepares the node's Consul client and its /readyz check before the node serves
// (checks is read by /readyz from then on). The log level of a logger made by newLogger becomes
// a hot setting of every target.
func (a *app) openConsul(checks map[string]readiness) error {
	c := a.consulNode()
	if !c.cfg.Enabled() {
		return nil
	}
	if err := c.open(); err != nil {
		return fmt.Errorf("consul: %w", err)
	}
	if level := levelVarOf(a.log); level != nil {
		for _, t := range runningTargets(a.cfg) {
			a.onConfig(t, []string{hotKeyLogLevel}, func(m map[string]json.RawMessage) { c.applyLogLevel(level, t, m) })
		}
	}
	checks["consul"] = c.readiness
	return nil
}

// startConsul, once the node serves, registers its running targets and follows their hot
// configuration until ctx ends. The function returned deregisters them: the node calls it before
// its HTTP server stops, so gateways stop routing to it while it still answers.
func (a *app) startConsul(ctx context.Context, node, addr string) (deregister func(context.Context)) {
	c := a.consulNode()
	if c.client == nil {
		return func(context.Context) {}
	}
	advertise, err := c.cfg.AdvertiseAddr(addr)
	if err != nil { // Validate checked --consul-advertise, and addr is the bound listener's
		a.log.Error("consul registration skipped", "err", err)
		return func(context.Context) {}
	}
	targets := runningTargets(a.cfg)
	reg := consul.NewRegistrar(c.client, c.cfg, consul.Node{ID: strings.TrimPrefix(node, "monitoring-node-"),
		Address: advertise, Version: version, Targets: targets, Tags: []string{"node:" + node}})
	ids := make([]string, 0, len(targets))
	for _, t := range targets {
		ids = append(ids, consul.ServiceID(t, strings.TrimPrefix(node, "monitoring-node-")))
		kv := consul.NewKVWatcher(c.client, a.log, consul.ConfigKey(t), func(m map[string]json.RawMessage) { c.apply(t, m) })
		a.wg.Add(1)
		go func() { defer a.wg.Done(); kv.Run(ctx) }()
	}
	regCtx, stopRegistering := context.WithCancel(ctx)
	regDone := make(chan struct{})
	go func() { defer close(regDone); c.keepRegistered(regCtx, reg, ids) }()
	return func(ctx context.Context) {
		stopRegistering()
		<-regDone
		if err := reg.Deregister(ctx); err != nil {
			a.log.Warn("consul deregistration failed; the services go once their check has been critical for 1m", "err", err)
			return
		}
		a.log.Info("deregistered from consul", "services", strings.Join(ids, ","))
	}
}

// keepRegistered registers the node, retrying with backoff while the agent is unreachable (the
// node serves meanwhile, outside the rotation), then re-registers whenever the agent has lost
// the services.
func (c *consulNode) keepRegistered(ctx context.Context, reg *consul.Registrar, ids []string) {
	backoff := time.Second
	registered := false
	for {
		if !registered || !c.agentHas(ctx, ids) {
			err := reg.Register(ctx)
			if ctx.Err() != nil {
				return
			}
			c.mu.Lock()
			c.reg.err = ""
			if err != nil {
				c.reg.err = err.Error()
			} else {
				c.reg.ids = ids
			}
			c.mu.Unlock()
			switch {
			case err != nil:
				c.log.Warn("consul registration failed; retrying", "err", err, "backoff", backoff.String())
			case registered:
				c.log.Warn("consul agent had lost this node's services; registered again", "services", strings.Join(ids, ","))
			default:
				c.log.Info("registered in consul", "services", strings.Join(ids, ","), "agent", c.cfg.Addr)
			}
			registered = err == nil
		}
		wait := reregisterEvery
		if !registered {
			wait, backoff = backoff, min(backoff*2, 30*time.Second)
		} else {
			backoff = time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// agentHas reports whether the agent still holds every service of ids; an unreachable agent
// counts as holding them (re-registering could not help).
func (c *consulNode) agentHas(ctx context.Context, ids []string) bool {
	services, err := c.client.Agent().ServicesWithFilterOpts("", (&api.QueryOptions{}).WithContext(ctx))
	if err != nil {
		return true
	}
	for _, id := range ids {
		if _, ok := services[id]; !ok {
			return false
		}
	}
	return true
}

// apply hands target's new configuration to its subscribers, and reports once each key that
// none of them applies.
func (c *consulNode) apply(target string, m map[string]json.RawMessage) {
	c.mu.Lock()
	c.last[target] = m
	subs := slices.Clone(c.subs[target])
	hot := map[string]bool{}
	for _, s := range subs {
		for _, k := range s.keys {
			hot[k] = true
		}
	}
	if c.cold[target] == nil {
		c.cold[target] = map[string]bool{}
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if !hot[k] && !c.cold[target][k] {
			c.cold[target][k] = true
			c.log.Warn("needs restart: "+k, "target", target, "key", consul.ConfigKey(target))
		}
	}
	c.mu.Unlock()
	for _, s := range subs {
		s.apply(m)
	}
	c.log.Debug("consul configuration applied", "target", target, "keys", strings.Join(slices.Sorted(maps.Keys(m)), ","))
}

// applyLogLevel records target's log_level and sets the node's level to the most verbose one
// asked for by any target, or back to --log-level when none asks.
func (c *consulNode) applyLogLevel(level *levelVar, target string, m map[string]json.RawMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if raw, ok := m[hotKeyLogLevel]; !ok {
		delete(c.levels, target)
	} else {
		var s string
		var l slog.Level
		if json.Unmarshal(raw, &s) != nil || l.UnmarshalText([]byte(s)) != nil {
			c.log.Error("consul log_level ignored: not debug, info, warn or error", "target", target, "value", string(raw))
			return
		}
		c.levels[target] = l
	}
	want := level.initial
	if len(c.levels) > 0 {
		want = slices.Min(slices.Collect(maps.Values(c.levels)))
	}
	if want != level.Level() {
		level.Set(want)
		c.log.Info("log level changed", "level", want.String(), "source", "consul")
	}
}

// readiness is the consul entry of /readyz: what is registered and which settings wait for a
// restart. Consul being unreachable does not make the node unready: it serves, outside the
// rotation until registered.
func (c *consulNode) readiness(context.Context) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	detail := map[string]any{"agent": c.cfg.Addr, "registered": c.reg.ids}
	if c.reg.err != "" {
		detail["error"] = c.reg.err
	}
	cold := map[string][]string{}
	for t, keys := range c.cold {
		if len(keys) > 0 {
			cold[t] = slices.Sorted(maps.Keys(keys))
		}
	}
	if len(cold) > 0 {
		detail["needs_restart"] = cold
	}
	return detail, true
}

// runningTargets are the targets the node runs, in start order: the relay is idle (and not
// registered) without Kafka.
func runningTargets(cfg *Config) []string {
	order, err := platformGraph.Resolve(cfg.Targets)
	if err != nil {
		return nil // serve resolved the same targets before anything opened
	}
	var targets []string
	for _, name := range order {
		if m := platformByName[name]; m.Target && !(m.needsKafka && len(cfg.KafkaBrokers) == 0) {
			targets = append(targets, name)
		}
	}
	return targets
}

// levelVar is the level of a logger made by newLogger, changeable while the node runs; initial
// is the level it was made with (--log-level).
type levelVar struct {
	slog.LevelVar
	initial slog.Level
}

// levelHandler is newLogger's handler: it carries the levelVar its output is filtered by, so
// that the node can change its level (Consul KV's log_level).
type levelHandler struct {
	slog.Handler
	level *levelVar
}

// levelVarOf returns the changeable level of log, or nil for a logger newLogger did not make
// (tests' loggers), whose level stays.
func levelVarOf(log *slog.Logger) *levelVar {
	if h, ok := log.Handler().(*levelHandler); ok {
		return h.level
	}
	return nil
}
