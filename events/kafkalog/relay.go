package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventtrace"
)

// Checkpoints stores the relay's position durably. The SQLite and PostgreSQL store adapters
// implement it on their *Store, so the checkpoint lives beside the events it points into.
type Checkpoints interface {
	// LoadCheckpoint returns the position saved under name, 0 when there is none.
	LoadCheckpoint(ctx context.Context, name string) (int64, error)
	// SaveCheckpoint saves pos under name.
	SaveCheckpoint(ctx context.Context, name string, pos int64) error
}

// RelayMetrics are the relay's counters, safe to read at any time (export them to Prometheus
// from the binary: counters for EventsRelayed/Batches/Errors, gauges for the positions and Lag).
type RelayMetrics struct {
	// EventsRelayed counts events acknowledged by Kafka (a re-published event counts again).
	EventsRelayed atomic.Int64
	// Batches counts store batches acknowledged by Kafka.
	Batches atomic.Int64
	// LastRelayed is the global position up to which every event is acknowledged by Kafka.
	LastRelayed atomic.Int64
	// Checkpoint is the last saved checkpoint.
	Checkpoint atomic.Int64
	// Head is the store's head position when last sampled.
	Head atomic.Int64
	// Errors counts runs that ended with an error.
	Errors atomic.Int64
}

// Lag is how many positions the checkpoint trails the store's head.
func (m *RelayMetrics) Lag() int64 {
	if lag := m.Head.Load() - m.Checkpoint.Load(); lag > 0 {
		return lag
	}
	return 0
}

// PublishError is an event that Kafka refused. The checkpoint stays before it, so nothing is
// lost; the relay stops until the cause (topic permissions, record size, …) is fixed.
type PublishError struct {
	EventID        string
	StreamID       string
	GlobalPosition int64
	Topic          string
	Err            error
}

func (e *PublishError) Error() string {
	return fmt.Sprintf("kafka relay: publishing event %s (stream %s, position %d) to %s: %v",
		e.EventID, e.StreamID, e.GlobalPosition, e.Topic, e.Err)
}

func (e *PublishError) Unwrap() error { return e.Err }

// Relay publishes the store's events, in global-position order, to Kafka. See the package doc.
type Relay struct {
	cfg     RelayConfig
	store   events.EventStore
	cps     Checkpoints
	metrics RelayMetrics
	running atomic.Bool

	// abortOnCancel makes a cancelled Run stop like a crash (tests): in-flight records are
	// abandoned and their batches are not checkpointed.
	abortOnCancel bool
}

// NewRelay returns a relay of store's events that keeps its checkpoint in cps. cfg is validated
// (after defaults).
func NewRelay(cfg RelayConfig, store events.EventStore, cps Checkpoints) (*Relay, error) {
	cfg = cfg.WithDefaults()
	var errs []error
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if store == nil {
		errs = append(errs, errors.New("kafka relay: an event store is required"))
	}
	if cps == nil {
		errs = append(errs, errors.New("kafka relay: a checkpoint store is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Relay{cfg: cfg, store: store, cps: cps}, nil
}

// Metrics returns the relay's live counters.
func (r *Relay) Metrics() *RelayMetrics { return &r.metrics }

// Config returns the relay's configuration with defaults applied.
func (r *Relay) Config() RelayConfig { return r.cfg }

// ProducerOpts are the franz-go options the relay produces with (seed brokers, acks from every
// in-sync replica, the idempotent producer that franz-go enables by default, the record size
// bound, a 1s metadata min age), followed by cfg.ClientOpts. Exposed so that a baseline can
// produce with the same settings.
func ProducerOpts(cfg RelayConfig) []kgo.Opt {
	cfg = cfg.WithDefaults()
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(cfg.MaxRecordBytes),
		// After a NOT_LEADER answer (a leader move, a partition not ready yet) the client refreshes
		// metadata at most this often; franz-go's 5s default would stall the relay that long.
		kgo.MetadataMinAge(time.Second),
	}
	return append(opts, cfg.ClientOpts...)
}

// inflight is one store batch handed to Kafka and not yet acknowledged in full.
type inflight struct {
	last      int64 // global position of its last event
	n         int
	remaining atomic.Int64
	done      chan struct{} // closed when every record has an answer
	mu        sync.Mutex
	err       error // first failure
}

// ack is the produce promise of every record of the batch.
func (b *inflight) ack(r *kgo.Record, err error) {
	eventtrace.End(trace.SpanFromContext(r.Context), err) // the record's `relay publish` span
	if err != nil {
		b.mu.Lock()
		if b.err == nil {
			e, _ := DecodeRecord(r) // for the error message only: which event failed
			b.err = &PublishError{EventID: e.EventID, StreamID: string(r.Key), GlobalPosition: e.GlobalPosition, Topic: r.Topic, Err: err}
		}
		b.mu.Unlock()
	}
	if b.remaining.Add(-1) == 0 {
		close(b.done)
	}
}

func (b *inflight) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// Run relays until ctx ends or publishing fails. Topics are created first if missing. On
// cancellation it drains: batches already handed to Kafka are awaited (up to DrainTimeout) and
// checkpointed before Run returns nil.
func (r *Relay) Run(ctx context.Context) (err error) {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("kafka relay: already running")
	}
	defer r.running.Store(false)
	defer func() {
		if err != nil {
			r.metrics.Errors.Add(1)
		}
	}()

	cl, err := kgo.NewClient(ProducerOpts(r.cfg)...)
	if err != nil {
		return fmt.Errorf("kafka relay: %w", err)
	}
	// Closing the client fails every record still buffered or in flight, which ends a drain
	// that outlived its timeout (or a simulated crash).
	var closeOnce sync.Once
	closeClient := func() { closeOnce.Do(cl.Close) }
	defer closeClient()
	topics := newTopicEnsurer(kadm.NewClient(cl), r.cfg)
	initial := make([]string, 0, len(r.cfg.Contexts))
	for _, c := range r.cfg.Contexts {
		initial = append(initial, TopicName(r.cfg.TopicPrefix, c))
	}
	if err := topics.ensure(ctx, initial); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}

	start, err := r.cps.LoadCheckpoint(ctx, r.cfg.Name)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("kafka relay: loading checkpoint %q: %w", r.cfg.Name, err)
	}
	r.metrics.Checkpoint.Store(start)
	r.metrics.LastRelayed.Store(start)
	r.sampleHead(ctx)

	// readCtx stops the store reader: on ctx's end, or when the committer fails.
	readCtx, stopReading := context.WithCancel(ctx)
	defer stopReading()
	// produceCtx is what records are produced with: it outlives ctx so that a shutdown drains,
	// and is cancelled to abandon what is still buffered (drain timeout, failure, crash test).
	produceCtx, abandon := context.WithCancel(context.WithoutCancel(ctx))
	defer abandon()

	// When ctx ends: drain for at most DrainTimeout, then abandon what is left (closing the client
	// fails it). The crash hook abandons at once. This also frees a publish blocked in Produce.
	var drainTimer atomic.Pointer[time.Timer]
	stopWatching := context.AfterFunc(ctx, func() {
		if r.abortOnCancel {
			abandon()
			go closeClient()
			return
		}
		drainTimer.Store(time.AfterFunc(r.cfg.DrainTimeout, func() { abandon(); closeClient() }))
	})
	defer func() {
		stopWatching()
		if t := drainTimer.Load(); t != nil {
			t.Stop()
		}
	}()

	queue := make(chan *inflight, r.cfg.MaxInFlightBatches)
	committed := make(chan error, 1)
	go func() { committed <- r.commitLoop(ctx, queue, stopReading, abandon) }()

	// Read ahead: the store reader fetches the next batch while this goroutine encodes and
	// produces the previous one, and Kafka acknowledges the ones before.
	reads := make(chan []events.Envelope, 1)
	readDone := make(chan error, 1)
	go func() {
		defer close(reads)
		readDone <- events.CatchUp(readCtx, r.store, start, r.cfg.BatchSize, func(rctx context.Context, batch []events.Envelope) error {
			select {
			case reads <- batch:
			case <-rctx.Done():
			}
			return nil
		})
	}()
	var publishErr error
	enc := newBatchEncoder(r.cfg.TopicPrefix)
	for batch := range reads {
		if publishErr != nil || readCtx.Err() != nil {
			continue // stopping: let the reader finish; unpublished batches are not checkpointed
		}
		if err := r.publish(readCtx, produceCtx, cl, enc, topics, queue, batch); err != nil && readCtx.Err() == nil {
			publishErr = err
			stopReading()
		}
	}
	readErr := <-readDone
	close(queue)

	stopping := ctx.Err() != nil
	commitErr := <-committed
	if stopping && (errors.Is(commitErr, context.Canceled) || errors.Is(commitErr, kgo.ErrClientClosed)) {
		// Batches abandoned on shutdown: not checkpointed, so published again on the next start.
		return nil
	}
	if commitErr != nil {
		return commitErr
	}
	if publishErr != nil {
		return publishErr
	}
	if readErr != nil && ctx.Err() == nil {
		return fmt.Errorf("kafka relay: reading the store: %w", readErr)
	}
	return nil
}

// publish hands one store batch to the committer and then to Kafka, asynchronously.
func (r *Relay) publish(ctx, produceCtx context.Context, cl *kgo.Client, enc *batchEncoder, topics *topicEnsurer, queue chan<- *inflight, batch []events.Envelope) error {
	b := &inflight{last: batch[len(batch)-1].GlobalPosition, n: len(batch), done: make(chan struct{})}
	recs := enc.encode(batch)
	var names []string
	for _, rec := range recs {
		if !topics.known(rec.Topic) {
			names = append(names, rec.Topic)
		}
	}
	if len(names) > 0 {
		if err := topics.ensure(ctx, names); err != nil {
			return err
		}
	}
	select { // hand over before producing, so that everything produced is awaited
	case queue <- b:
	case <-ctx.Done():
		return nil
	}
	b.remaining.Store(int64(len(recs)))
	traced := eventtrace.Enabled()
	for i, rec := range recs {
		if traced {
			rec.Context = startPublishSpan(produceCtx, rec, &batch[i])
		}
		cl.Produce(produceCtx, rec, b.ack)
	}
	return nil
}

// startPublishSpan starts the `relay publish` span of one record, a child of the span that
// appended its event (the envelope's trace_parent), and returns the context carrying it (the
// record's Context: ack ends the span). A recorded span's own traceparent goes on the record as
// the standard `traceparent` header, beside `trace_parent`, which stays the envelope's value:
// consumers continue the trace from the publish, the envelope still says who appended.
func startPublishSpan(ctx context.Context, rec *kgo.Record, e *events.Envelope) context.Context {
	ctx, span := eventtrace.Tracer().Start(eventtrace.WithParent(ctx, e.TraceParent), "relay publish",
		trace.WithSpanKind(trace.SpanKindProducer))
	if !span.IsRecording() {
		return ctx // tracing off or not sampled: nothing to add (and no attribute allocations)
	}
	span.SetAttributes(eventtrace.EventAttributes(e)...)
	span.SetAttributes(
		attribute.String("messaging.system", "kafka"),
		attribute.String("messaging.operation.type", "publish"),
		attribute.String("messaging.destination.name", rec.Topic),
	)
	// The encoder capped Headers' capacity, so this append copies instead of writing into the
	// batch's shared header array.
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: eventtrace.Header, Value: []byte(eventtrace.Format(span.SpanContext()))})
	return ctx
}

// commitLoop awaits the in-flight batches in order and saves the checkpoint after each run of
// acknowledged batches. A failed batch stops the reader; nothing after it is checkpointed.
func (r *Relay) commitLoop(ctx context.Context, queue <-chan *inflight, stopReading, abandon context.CancelFunc) error {
	// Saves use a context that survives ctx, so that a drained batch is checkpointed.
	saveCtx := context.WithoutCancel(ctx)
	var failed error
	var tick <-chan time.Time
	if r.cfg.MetricsInterval > 0 {
		t := time.NewTicker(r.cfg.MetricsInterval)
		defer t.Stop()
		tick = t.C
	}
	var held *inflight // popped from the queue, not yet acknowledged
	for {
		b := held
		held = nil
		if b == nil {
			var ok bool
			select {
			case b, ok = <-queue:
			case <-tick:
				r.sampleHead(ctx)
				continue
			}
			if !ok {
				return failed
			}
		}
		<-b.done
		if failed != nil {
			continue // only waiting for the rest to finish
		}
		if err := b.failure(); err != nil {
			failed = err
			stopReading()
			abandon()
			continue
		}
		pos, n, batches := b.last, int64(b.n), int64(1)
		// Take every following batch that is already acknowledged: one save for all of them.
	more:
		for {
			select {
			case nb, ok := <-queue:
				if !ok {
					break more
				}
				select {
				case <-nb.done:
					if nb.failure() != nil {
						held = nb
						break more
					}
					pos, n, batches = nb.last, n+int64(nb.n), batches+1
				default:
					held = nb
					break more
				}
			default:
				break more
			}
		}
		r.metrics.EventsRelayed.Add(n)
		r.metrics.Batches.Add(batches)
		r.metrics.LastRelayed.Store(pos)
		if err := r.save(ctx, saveCtx, pos); err != nil {
			failed = fmt.Errorf("kafka relay: saving checkpoint %q at %d: %w", r.cfg.Name, pos, err)
			stopReading()
			abandon()
			continue
		}
		r.metrics.Checkpoint.Store(pos)
		if r.metrics.Head.Load() < pos {
			r.metrics.Head.Store(pos)
		}
	}
}

// save saves the checkpoint; once ctx has ended (draining), within DrainTimeout.
func (r *Relay) save(ctx, saveCtx context.Context, pos int64) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		saveCtx, cancel = context.WithTimeout(saveCtx, r.cfg.DrainTimeout)
		defer cancel()
	}
	return r.cps.SaveCheckpoint(saveCtx, r.cfg.Name, pos)
}

func (r *Relay) sampleHead(ctx context.Context) {
	if h, err := r.store.HeadPosition(ctx); err == nil {
		r.metrics.Head.Store(h)
	}
}

// topicEnsurer creates missing topics with kadm and waits until they answer. It is used by
// one goroutine at a time (Run, then the publishing loop), so it needs no lock.
type topicEnsurer struct {
	adm  *kadm.Client
	cfg  RelayConfig
	seen map[string]bool
}

func newTopicEnsurer(adm *kadm.Client, cfg RelayConfig) *topicEnsurer {
	return &topicEnsurer{adm: adm, cfg: cfg, seen: map[string]bool{}}
}

func (t *topicEnsurer) known(topic string) bool { return t.seen[topic] }

func (t *topicEnsurer) ensure(ctx context.Context, topics []string) error {
	var missing []string
	uniq := map[string]bool{}
	for _, name := range topics {
		if !t.known(name) && !uniq[name] {
			uniq[name] = true
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := EnsureTopics(ctx, t.adm, t.cfg.Partitions, t.cfg.ReplicationFactor, t.cfg.TopicConfigs, missing...); err != nil {
		return err
	}
	for _, name := range missing {
		t.seen[name] = true
	}
	return nil
}

// EnsureTopics creates the topics that do not exist yet (existing ones are left as they are)
// and waits until every partition of every topic has a leader.
func EnsureTopics(ctx context.Context, adm *kadm.Client, partitions int32, rf int16, configs map[string]*string, topics ...string) error {
	resp, err := adm.CreateTopics(ctx, partitions, rf, configs, topics...)
	if err != nil {
		return fmt.Errorf("kafka: creating topics %v: %w", topics, err)
	}
	var errs []error
	for _, name := range topics {
		cr, ok := resp[name]
		if ok && cr.Err != nil && !errors.Is(cr.Err, kerr.TopicAlreadyExists) {
			msg := cr.Err.Error()
			if cr.ErrMessage != "" {
				msg += ": " + cr.ErrMessage
			}
			errs = append(errs, fmt.Errorf("kafka: creating topic %s (%d partitions, replication factor %d): %s", name, partitions, rf, msg))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	// Wait until every partition has a leader that answers: a KRaft broker lists the leader of
	// a new partition slightly before the partition accepts requests, and a produce that hits
	// that window waits out the client's metadata min age.
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := topicsReady(ctx, adm, topics)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kafka: topics %v not ready after 30s: %w", topics, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func topicsReady(ctx context.Context, adm *kadm.Client, topics []string) error {
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return err
	}
	want := 0
	for _, name := range topics {
		d, ok := details[name]
		switch {
		case !ok:
			return fmt.Errorf("topic %s not listed", name)
		case d.Err != nil:
			return fmt.Errorf("topic %s: %w", name, d.Err)
		case len(d.Partitions) == 0:
			return fmt.Errorf("topic %s has no partitions yet", name)
		}
		for _, p := range d.Partitions {
			if p.Err != nil || p.Leader < 0 {
				return fmt.Errorf("topic %s partition %d has no leader", name, p.Partition)
			}
		}
		want += len(d.Partitions)
	}
	offsets, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return err
	}
	got := 0
	var perr error
	offsets.Each(func(o kadm.ListedOffset) {
		got++
		if o.Err != nil && perr == nil {
			perr = fmt.Errorf("topic %s partition %d: %w", o.Topic, o.Partition, o.Err)
		}
	})
	if perr != nil {
		return perr
	}
	if got < want {
		return fmt.Errorf("%d of %d partitions answered", got, want)
	}
	return nil
}
