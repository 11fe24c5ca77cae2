package consul

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/hashicorp/consul/api"
)

// MaxConfigBytes bounds a configuration value: a node's settings are a few hundred bytes, and a
// value past this is a mistake, refused like a malformed one.
const MaxConfigBytes = 64 << 10

// KVWatcher follows one KV key holding a JSON object (a target's hot configuration).
type KVWatcher struct {
	client *api.Client
	log    *slog.Logger
	key    string
	apply  func(map[string]json.RawMessage)

	last    []byte // the value last applied (nil: none yet)
	applied bool
}

// NewKVWatcher returns a watcher of key calling apply with the decoded object first when it is
// read, then on every change, from one goroutine. An absent key is an empty object (no
// overrides). A value that is not a JSON object, or is larger than MaxConfigBytes, is logged and
// ignored: the configuration last applied stays.
func NewKVWatcher(client *api.Client, log *slog.Logger, key string, apply func(map[string]json.RawMessage)) *KVWatcher {
	return &KVWatcher{client: client, log: log, key: key, apply: apply}
}

// Run follows the key until ctx ends.
func (k *KVWatcher) Run(ctx context.Context) {
	follow(ctx, k.log, "kv "+k.key, func(ctx context.Context, index uint64) (uint64, error) {
		pair, meta, err := k.client.KV().Get(k.key, (&api.QueryOptions{WaitIndex: index, WaitTime: waitTime}).WithContext(ctx))
		if err != nil {
			return 0, err
		}
		value := []byte("{}")
		if pair != nil {
			value = pair.Value
		}
		k.update(value)
		return meta.LastIndex, nil
	})
}

func (k *KVWatcher) update(value []byte) {
	if k.applied && bytes.Equal(value, k.last) {
		return // the index moved for another key or a rewrite of the same value
	}
	settings, err := decodeConfig(value)
	if err != nil {
		k.log.Error("consul configuration ignored; the last good one stays", "key", k.key, "err", err)
		// Remembered so the same bad value is not reported again at every index change.
		k.last, k.applied = bytes.Clone(value), true
		return
	}
	k.last, k.applied = bytes.Clone(value), true
	k.apply(settings)
}

func decodeConfig(value []byte) (map[string]json.RawMessage, error) {
	if len(value) > MaxConfigBytes {
		return nil, fmt.Errorf("value of %d bytes exceeds %d", len(value), MaxConfigBytes)
	}
	if len(bytes.TrimSpace(value)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	var settings map[string]json.RawMessage
	if err := json.Unmarshal(value, &settings); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if settings == nil { // the value was JSON null
		return nil, fmt.Errorf("not a JSON object: null")
	}
	return settings, nil
}
