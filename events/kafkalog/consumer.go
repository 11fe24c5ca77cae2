package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/eventtrace"
)

// ConsumerMetrics are the consumer's counters, safe to read at any time.
type ConsumerMetrics struct {
	Records      atomic.Int64 // records polled and handled (including filtered and skipped ones)
	Batches      atomic.Int64 // handler calls that succeeded
	Commits      atomic.Int64 // successful offset commits
	CommitErrors atomic.Int64 // failed commits (the records will be delivered again)
	FetchErrors  atomic.Int64 // fetch errors reported by the client (it retries by itself)
	Invalid      atomic.Int64 // records skipped by OnInvalidRecord
}

// Consumer serves eventlog.Consumer from a Kafka consumer group.
//
// Each poll (at most MaxPollRecords records, in partition order) becomes one handler batch; the
// batch's offsets are committed only after the handler returned nil. A handler error stops Run
// with that error and nothing of the batch is committed, so it is delivered again to whoever
// consumes the partitions next. Rebalances are blocked while a batch is handled
// (BlockRebalanceOnPoll): the handler must finish within the group's rebalance timeout (60s by
// default). The per-stream order is kept (a stream is one key, in one partition).
type Consumer struct {
	cfg     ConsumerConfig
	metrics ConsumerMetrics
	running atomic.Bool
}

var _ eventlog.Consumer = (*Consumer)(nil)

// NewConsumer validates cfg (after defaults) and returns a consumer.
func NewConsumer(cfg ConsumerConfig) (*Consumer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Consumer{cfg: cfg}, nil
}

// Metrics returns the consumer's live counters.
func (c *Consumer) Metrics() *ConsumerMetrics { return &c.metrics }

// Config returns the consumer's configuration with defaults applied.
func (c *Consumer) Config() ConsumerConfig { return c.cfg }

// handled tracks offsets that a handler applied but that are not known to be committed, so that
// a revoke can commit them (a commit that failed after the handler succeeded, say).
type handled struct {
	mu      sync.Mutex
	offsets map[string]map[int32]kgo.EpochOffset
}

func (h *handled) add(recs []*kgo.Record) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range recs {
		ps := h.offsets[r.Topic]
		if ps == nil {
			ps = map[int32]kgo.EpochOffset{}
			h.offsets[r.Topic] = ps
		}
		next := kgo.EpochOffset{Epoch: r.LeaderEpoch, Offset: r.Offset + 1}
		if cur, ok := ps[r.Partition]; !ok || cur.Less(next) {
			ps[r.Partition] = next
		}
	}
}

// take removes and returns the tracked offsets of the given partitions (all when only is nil).
func (h *handled) take(only map[string][]int32) map[string]map[int32]kgo.EpochOffset {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]map[int32]kgo.EpochOffset{}
	for topic, ps := range h.offsets {
		for p, o := range ps {
			if only != nil && !hasPartition(only[topic], p) {
				continue
			}
			if out[topic] == nil {
				out[topic] = map[int32]kgo.EpochOffset{}
			}
			out[topic][p] = o
			delete(ps, p)
		}
		if len(ps) == 0 {
			delete(h.offsets, topic)
		}
	}
	return out
}

// putBack returns offsets whose commit failed, unless newer ones were handled meanwhile.
func (h *handled) putBack(offs map[string]map[int32]kgo.EpochOffset) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for topic, ps := range offs {
		for p, o := range ps {
			cur := h.offsets[topic]
			if cur == nil {
				cur = map[int32]kgo.EpochOffset{}
				h.offsets[topic] = cur
			}
			if old, ok := cur[p]; !ok || old.Less(o) {
				cur[p] = o
			}
		}
	}
}

func hasPartition(ps []int32, p int32) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// commit commits offs synchronously and reports the first error.
func commit(ctx context.Context, cl *kgo.Client, offs map[string]map[int32]kgo.EpochOffset) error {
	if len(offs) == 0 {
		return nil
	}
	var rerr error
	cl.CommitOffsetsSync(ctx, offs, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		if err != nil {
			rerr = err
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil && rerr == nil {
					rerr = fmt.Errorf("committing %s/%d: %w", t.Topic, p.Partition, err)
				}
			}
		}
	})
	return rerr
}

// clientOpts are the franz-go options the consumer uses, followed by cfg.ClientOpts.
func (c *Consumer) clientOpts(pending *handled) []kgo.Opt {
	cfg := c.cfg
	reset := kgo.NewOffset().AtStart()
	if cfg.Start == StartLatest {
		reset = kgo.NewOffset().AtEnd()
	}
	if !cfg.StartTime.IsZero() {
		reset = kgo.NewOffset().AfterMilli(cfg.StartTime.UnixMilli())
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(reset),
		kgo.MetadataMaxAge(cfg.MetadataMaxAge),
		kgo.MetadataMinAge(min(cfg.MetadataMaxAge, 5*time.Second)),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
			// Everything handled before the revoke is committed by the poll loop already, unless a
			// commit failed: retry those now, while the partitions are still ours.
			offs := pending.take(revoked)
			if err := commit(ctx, cl, offs); err != nil {
				c.metrics.CommitErrors.Add(1)
			} else if len(offs) > 0 {
				c.metrics.Commits.Add(1)
			}
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
			pending.take(lost) // not ours any more: another member will deliver them again
		}),
	}
	topics := cfg.Topics
	if len(topics) == 0 && len(cfg.Filter.Contexts) > 0 {
		for _, ctxName := range cfg.Filter.Contexts {
			topics = append(topics, TopicName(cfg.TopicPrefix, ctxName))
		}
	}
	if len(topics) > 0 {
		opts = append(opts, kgo.ConsumeTopics(topics...))
	} else {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(TopicRegex(cfg.TopicPrefix)))
	}
	return append(opts, cfg.ClientOpts...)
}

// Run implements eventlog.Consumer: it joins the group and delivers batches until ctx ends
// (nil) or the handler fails (its error; the failed batch is not committed).
func (c *Consumer) Run(ctx context.Context, h eventlog.Handler) error {
	if h == nil {
		return errors.New("kafka consumer: a handler is required")
	}
	if !c.running.CompareAndSwap(false, true) {
		return errors.New("kafka consumer: already running")
	}
	defer c.running.Store(false)

	pending := &handled{offsets: map[string]map[int32]kgo.EpochOffset{}}
	cl, err := kgo.NewClient(c.clientOpts(pending)...)
	if err != nil {
		return fmt.Errorf("kafka consumer: %w", err)
	}
	// Leaving the group runs OnPartitionsRevoked, which commits what was handled.
	defer cl.CloseAllowingRebalance()

	commitCtx := context.WithoutCancel(ctx) // a handled batch is committed even while stopping
	for {
		fetches := cl.PollRecords(ctx, c.cfg.MaxPollRecords)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		fetchErrs := 0
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			fetchErrs++
			c.metrics.FetchErrors.Add(1)
			if c.cfg.OnFetchError != nil {
				c.cfg.OnFetchError(topic, p, err)
			}
		})
		recs := fetches.Records()
		if len(recs) == 0 {
			cl.AllowRebalance()
			if fetchErrs > 0 { // the client retries by itself; do not spin on a persistent error
				select {
				case <-ctx.Done():
				case <-time.After(250 * time.Millisecond):
				}
			}
			continue
		}
		batch := make([]events.Envelope, 0, len(recs))
		var delivered map[string]string // event id → the record's traceparent (the relay's span)
		for _, r := range recs {
			e, err := DecodeRecord(r)
			if err != nil {
				if c.cfg.OnInvalidRecord == nil {
					return err
				}
				if herr := c.cfg.OnInvalidRecord(r, err); herr != nil {
					return herr
				}
				c.metrics.Invalid.Add(1)
				continue
			}
			if c.cfg.Filter.IsZero() || c.cfg.Filter.Match(&e) {
				batch = append(batch, e)
				if tp := recordTraceParent(r); tp != "" {
					if delivered == nil {
						delivered = make(map[string]string, len(recs))
					}
					delivered[e.EventID] = tp
				}
			}
		}
		if len(batch) > 0 {
			if err := h(eventtrace.WithDelivery(ctx, delivered), batch); err != nil {
				if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
					return nil // gave up because we are stopping; not handled, not committed
				}
				return err
			}
			c.metrics.Batches.Add(1)
		}
		c.metrics.Records.Add(int64(len(recs)))
		pending.add(recs)
		offs := pending.take(nil)
		cctx, cancel := context.WithTimeout(commitCtx, c.cfg.CommitTimeout)
		err := commit(cctx, cl, offs)
		cancel()
		if err != nil {
			// At least once: the batch is applied; if the commit never lands it is delivered again.
			c.metrics.CommitErrors.Add(1)
			pending.putBack(offs)
		} else {
			c.metrics.Commits.Add(1)
		}
		cl.AllowRebalance()
	}
}

// recordTraceParent is the record's standard `traceparent` header (set by a relay that traced
// the publish), "" when it has none.
func recordTraceParent(r *kgo.Record) string {
	for i := len(r.Headers) - 1; i >= 0; i-- { // the relay appends it last
		if r.Headers[i].Key == eventtrace.Header {
			return string(r.Headers[i].Value)
		}
	}
	return ""
}
