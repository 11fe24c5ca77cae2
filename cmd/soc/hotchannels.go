package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/socplatform/soc/commands/notifications/channels"
)

// senderSwapper is the notification worker as hotChannels needs it.
type senderSwapper interface {
	SetSenders(map[string]channels.Sender) error
}

// hotChannels applies the notifier's channel settings from Consul KV (config/soc/notifier):
// each key is a channel flag in snake_case (--slack-webhook-url ↔ slack_webhook_url) and
// overlays that flag, a key absent leaving the flag's value. The new channel set is checked
// as at start and replaces the worker's senders whole, or is refused with the set in force
// kept. Values are credentials (URLs with tokens, passwords): they are never logged, only the
// keys.
type hotChannels struct {
	base   ChannelsConfig // the flags
	tmpl   *channels.Templates
	extra  map[string]channels.Sender // senders that are not settings (the WebSocket push)
	worker senderSwapper
	log    *slog.Logger

	mu    sync.Mutex
	last  map[string]json.RawMessage // the channel keys in force
	names []string                   // the channels in force, sorted
}

// channelKeys are the KV keys of the channel settings: the channel flags in snake_case.
func channelKeys() []string {
	var keys []string
	channelFlags(&ChannelsConfig{}).VisitAll(func(f *flag.Flag) { keys = append(keys, hotKey(f.Name)) })
	return keys
}

// channelFlags declares c's flags on a set of their own, so that they can set c's fields.
func channelFlags(c *ChannelsConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("channels", flag.ContinueOnError)
	c.RegisterFlags(fs)
	return fs
}

func hotKey(flagName string) string { return strings.ReplaceAll(flagName, "-", "_") }

// overlayChannels returns base with the channel keys of kv set as their flags would set them,
// or the keys whose value is not a JSON string, number or boolean.
func overlayChannels(base ChannelsConfig, kv map[string]json.RawMessage) (ChannelsConfig, []string) {
	var next ChannelsConfig
	fs := channelFlags(&next)
	next = base // the flags address next's fields: from here they set them over the node's values
	var bad []string
	fs.VisitAll(func(f *flag.Flag) {
		raw, ok := kv[hotKey(f.Name)]
		if !ok {
			return
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			var v any
			if json.Unmarshal(raw, &v) != nil {
				bad = append(bad, hotKey(f.Name))
				return
			}
			switch v.(type) {
			case bool, float64:
				s = string(bytes.TrimSpace(raw))
			default:
				bad = append(bad, hotKey(f.Name))
				return
			}
		}
		if f.Value.Set(s) != nil {
			bad = append(bad, hotKey(f.Name))
		}
	})
	return next, bad
}

// build makes the senders of cfg, checked as at start; on error it names the keys of kv that
// belong to the channels refused (their flags share the channel's prefix).
func (h *hotChannels) build(cfg ChannelsConfig, kv map[string]json.RawMessage) (map[string]channels.Sender, []string) {
	senders, err := notificationChannels(cfg, h.tmpl)
	if err == nil {
		for name, s := range h.extra {
			senders[name] = s
		}
		return senders, nil
	}
	var bad []string
	for prefix, ch := range map[string]interface {
		Configured() bool
		Validate() error
	}{"smtp_": cfg.SMTP, "slack_": cfg.Slack, "teams_": cfg.Teams, "webhook_": cfg.Webhook, "sms_": cfg.SMS} {
		if ch.Configured() && ch.Validate() != nil {
			for k := range kv {
				if strings.HasPrefix(k, prefix) {
					bad = append(bad, k)
				}
			}
		}
	}
	if len(bad) == 0 { // the channel's flags are at fault, which Validate refused at start
		bad = slices.Collect(maps.Keys(kv))
	}
	return nil, bad
}

// apply is the notifier's subscriber of config/soc/notifier.
func (h *hotChannels) apply(m map[string]json.RawMessage) {
	kv := map[string]json.RawMessage{}
	for _, k := range channelKeys() {
		if v, ok := m[k]; ok {
			kv[k] = v
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if maps.EqualFunc(kv, h.last, func(a, b json.RawMessage) bool { return bytes.Equal(a, b) }) {
		return // another key of the target changed
	}
	refuse := func(bad []string) {
		slices.Sort(bad)
		h.log.Warn("hot configuration refused; the notification channels in force are kept", "target", "notifier", "keys", strings.Join(bad, ","))
	}
	cfg, bad := overlayChannels(h.base, kv)
	if len(bad) > 0 {
		refuse(bad)
		return
	}
	senders, bad := h.build(cfg, kv)
	if bad != nil {
		refuse(bad)
		return
	}
	if err := h.worker.SetSenders(senders); err != nil {
		h.log.Error("notification channels not changed", "err", err)
		return
	}
	h.last = kv
	h.names = slices.Sorted(maps.Keys(senders))
	h.log.Info("notification channels changed", "configured", strings.Join(h.names, ","), "source", "consul")
}

// configured lists the channels in force.
func (h *hotChannels) configured() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.names
}

// newHotChannels returns the notifier's hot channel settings, senders being those built from
// the flags (extra included), and subscribes it to config/soc/notifier.
func (a *app) newHotChannels(w senderSwapper, tmpl *channels.Templates, senders map[string]channels.Sender, extra map[string]channels.Sender) *hotChannels {
	h := &hotChannels{base: a.cfg.Channels, tmpl: tmpl, extra: extra, worker: w, log: a.log,
		last: map[string]json.RawMessage{}, names: slices.Sorted(maps.Keys(senders))}
	a.onConfig("notifier", channelKeys(), h.apply)
	return h
}
