// Package kafkalog is the Kafka side of the event log: the Relay publishes the event store's
// events, in global order, to one topic per bounded context ("soc.<context>.events", key =
// stream id, value = the event's data, headers = the rest of the envelope), and the Consumer
// serves eventlog.Consumer from a Kafka consumer group. It uses franz-go.
//
// Delivery is at least once end to end: the relay saves its store checkpoint only after Kafka
// acknowledged a whole batch, and the consumer commits offsets only after its handler succeeded.
// Consumers make their effect idempotent by stream version (eventlog.VersionGuard).
package kafkalog

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
)

// DefaultContexts are the bounded contexts that write events; the relay creates their topics on
// start. Topics of other contexts are created when their first event is relayed.
var DefaultContexts = []string{"identity", "assets", "vulns", "scans", "notifications", "compliance", "threatintel"}

// DefaultTopicPrefix names the topics "soc.<context>.events".
const DefaultTopicPrefix = "soc"

var topicPrefixRe = regexp.MustCompile(`^[a-zA-Z0-9_-][a-zA-Z0-9._-]{0,199}$`)

// validTopicPart reports whether s may stand between the dots of a topic name
// ([a-zA-Z0-9_-]{1,200}); a loop, not a regexp: it runs for every relayed event.
func validTopicPart(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// TopicName returns the topic of a bounded context: "<prefix>.<context>.events". A context
// that cannot be part of a topic name (a stream id the guard would have refused) maps to
// "<prefix>.invalid.events" rather than wedging the relay.
func TopicName(prefix, context string) string {
	if !validTopicPart(context) {
		context = "invalid"
	}
	return prefix + "." + context + ".events"
}

// TopicRegex returns the regular expression that matches every events topic under prefix.
func TopicRegex(prefix string) string {
	return `^` + regexp.QuoteMeta(prefix) + `\.[^.]+\.events$`
}

// RelayConfig configures a Relay. Zero fields take the defaults given on each.
type RelayConfig struct {
	// Brokers are the seed brokers ("host:port"). Required.
	Brokers []string
	// Name is the checkpoint name (default "kafka-relay"); two relays with the same name must
	// not run at once.
	Name string
	// TopicPrefix (default "soc") names topics "<prefix>.<context>.events".
	TopicPrefix string
	// Contexts whose topics are created on start (default DefaultContexts).
	Contexts []string
	// Partitions and ReplicationFactor of the topics the relay creates (default 3 and 1).
	// Existing topics are left as they are.
	Partitions        int32
	ReplicationFactor int16
	// TopicConfigs are set on the topics the relay creates (default: retention.ms=-1, since
	// records carry their recorded_at as timestamp and a rebuilt topic would otherwise be
	// expired at once; max.message.bytes=MaxRecordBytes). Set a key to nil to use the broker's.
	TopicConfigs map[string]*string
	// BatchSize is how many events one store read returns (default 1000, at most events.MaxReadLimit).
	BatchSize int
	// MaxInFlightBatches is how many read batches may be in Kafka's hands, unacknowledged, while
	// the next one is read (default 8).
	MaxInFlightBatches int
	// MaxRecordBytes bounds one record (the producer's batch size; default 4 MiB, above the
	// store guard's 1 MiB per event).
	MaxRecordBytes int32
	// DrainTimeout bounds the wait for in-flight batches on shutdown (default 30s). Batches not
	// acknowledged by then are not checkpointed and are published again on the next start.
	DrainTimeout time.Duration
	// MetricsInterval is how often the store head is sampled for the lag metric (default 5s).
	MetricsInterval time.Duration
	// ClientOpts are appended to the franz-go options (TLS, SASL, logging, …).
	ClientOpts []kgo.Opt
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c RelayConfig) WithDefaults() RelayConfig {
	if c.Name == "" {
		c.Name = "kafka-relay"
	}
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	if c.Contexts == nil {
		c.Contexts = DefaultContexts
	}
	if c.Partitions == 0 {
		c.Partitions = 3
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 1
	}
	if c.BatchSize == 0 {
		c.BatchSize = 1000
	}
	if c.MaxInFlightBatches == 0 {
		c.MaxInFlightBatches = 8
	}
	if c.MaxRecordBytes == 0 {
		c.MaxRecordBytes = 4 << 20
	}
	if c.TopicConfigs == nil {
		c.TopicConfigs = map[string]*string{
			"retention.ms":      ptr("-1"),
			"max.message.bytes": ptr(fmt.Sprint(c.MaxRecordBytes)),
		}
	}
	if c.DrainTimeout == 0 {
		c.DrainTimeout = 30 * time.Second
	}
	if c.MetricsInterval == 0 {
		c.MetricsInterval = 5 * time.Second
	}
	return c
}

// Validate reports every problem of c (after defaults) at once.
func (c RelayConfig) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("kafka relay: "+format, args...)) }
	checkBrokers(c.Brokers, bad)
	if !topicPrefixRe.MatchString(c.TopicPrefix) {
		bad("topic_prefix: %q may only hold letters, digits, '.', '_' and '-'", c.TopicPrefix)
	}
	for i, ctx := range c.Contexts {
		if !validTopicPart(ctx) {
			bad("contexts[%d]: %q may only hold letters, digits, '_' and '-'", i, ctx)
		}
	}
	if c.Partitions < 1 {
		bad("partitions: %d, must be at least 1", c.Partitions)
	}
	if c.ReplicationFactor < 1 {
		bad("replication_factor: %d, must be at least 1", c.ReplicationFactor)
	}
	if c.BatchSize < 1 || c.BatchSize > events.MaxReadLimit {
		bad("batch_size: %d, must be between 1 and %d", c.BatchSize, events.MaxReadLimit)
	}
	if c.MaxInFlightBatches < 1 {
		bad("max_in_flight_batches: %d, must be at least 1", c.MaxInFlightBatches)
	}
	if c.MaxRecordBytes < 1<<10 || c.MaxRecordBytes > 1<<30 {
		bad("max_record_bytes: %d, must be between 1 KiB and 1 GiB", c.MaxRecordBytes)
	}
	if c.DrainTimeout < 0 {
		bad("drain_timeout: %v, must not be negative", c.DrainTimeout)
	}
	if c.MetricsInterval < 0 {
		bad("metrics_interval: %v, must not be negative", c.MetricsInterval)
	}
	return errors.Join(errs...)
}

// checkBrokers reports, through bad, what is wrong with a list of seed brokers: the relay and
// the consumers need the same.
func checkBrokers(brokers []string, bad func(format string, args ...any)) {
	if len(brokers) == 0 {
		bad("brokers: at least one seed broker is required (SOC_KAFKA_BROKERS)")
	}
	for i, b := range brokers {
		if b == "" {
			bad("brokers[%d]: empty address", i)
		}
	}
}

// StartPosition is where a consumer group with no committed offsets starts.
type StartPosition int

const (
	// StartEarliest starts at the beginning of each partition (the default: a new projection
	// wants the whole history).
	StartEarliest StartPosition = iota
	// StartLatest starts at the end: only events relayed after the group first joined.
	StartLatest
)

// ConsumerConfig configures a Consumer. Zero fields take the defaults given on each.
type ConsumerConfig struct {
	// Brokers are the seed brokers ("host:port"). Required.
	Brokers []string
	// Group is the consumer group id: one per projection or saga. Required.
	Group string
	// Topics to consume; when empty, every topic matching TopicRegex(TopicPrefix).
	Topics []string
	// TopicPrefix (default "soc") when Topics is empty.
	TopicPrefix string
	// Start is where a group without committed offsets starts (default StartEarliest).
	Start StartPosition
	// StartTime, when set, makes a group without committed offsets start at the first record
	// whose timestamp (the event's recorded_at) is at or after it: a replay from a time.
	// A group that has committed offsets resumes from them; replay with a new group id.
	StartTime time.Time
	// MaxPollRecords bounds one handler batch (default 1000).
	MaxPollRecords int
	// Filter drops events before the handler (their offsets are committed all the same).
	// When Topics is empty and Filter.Contexts is not, only those contexts' topics are read.
	Filter eventlog.Filter
	// CommitTimeout bounds an offset commit, which runs even while shutting down (default 10s).
	CommitTimeout time.Duration
	// MetadataMaxAge is how often topics are re-listed to discover new ones matching the regex
	// (default 30s).
	MetadataMaxAge time.Duration
	// OnInvalidRecord decides what happens to a record that does not decode into an envelope
	// (not written by the relay). Return nil to skip it (after parking it somewhere and raising
	// an alert), or an error to stop. When nil, the consumer stops with a *DecodeError.
	OnInvalidRecord func(rec *kgo.Record, err error) error
	// OnFetchError, when set, is told of every fetch error (the client retries by itself;
	// log them). They are counted in ConsumerMetrics.FetchErrors either way.
	OnFetchError func(topic string, partition int32, err error)
	// ClientOpts are appended to the franz-go options (TLS, SASL, logging, …).
	ClientOpts []kgo.Opt
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c ConsumerConfig) WithDefaults() ConsumerConfig {
	if c.TopicPrefix == "" {
		c.TopicPrefix = DefaultTopicPrefix
	}
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = 1000
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = 10 * time.Second
	}
	if c.MetadataMaxAge == 0 {
		c.MetadataMaxAge = 30 * time.Second
	}
	return c
}

// Validate reports every problem of c (after defaults) at once.
func (c ConsumerConfig) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("kafka consumer: "+format, args...)) }
	checkBrokers(c.Brokers, bad)
	if c.Group == "" {
		bad("group: a consumer group id is required")
	}
	for i, t := range c.Topics {
		if t == "" || !topicPrefixRe.MatchString(t) {
			bad("topics[%d]: %q is not a valid topic name", i, t)
		}
	}
	if len(c.Topics) == 0 && !topicPrefixRe.MatchString(c.TopicPrefix) {
		bad("topic_prefix: %q may only hold letters, digits, '.', '_' and '-'", c.TopicPrefix)
	}
	if c.Start != StartEarliest && c.Start != StartLatest {
		bad("start: unknown start position %d", c.Start)
	}
	if c.MaxPollRecords < 1 {
		bad("max_poll_records: %d, must be at least 1", c.MaxPollRecords)
	}
	if c.CommitTimeout < 0 {
		bad("commit_timeout: %v, must not be negative", c.CommitTimeout)
	}
	if c.MetadataMaxAge < 10*time.Millisecond || c.MetadataMaxAge > time.Hour {
		bad("metadata_max_age: %v, must be between 10ms and 1h", c.MetadataMaxAge)
	}
	return errors.Join(errs...)
}

func ptr(s string) *string { return &s }
