package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/modules"
)

// Config is everything `soc` reads from flags and SOC_* environment variables. A flag wins over
// its variable; an unset backend means the embedded default (SQLite in the data directory, the
// store itself as the log).
type Config struct {
	HTTPAddr         string        // --http, SOC_HTTP_ADDR
	DataDir          string        // --data, SOC_DATA_DIR
	Targets          []string      // --target, SOC_TARGET
	PostgresURL      string        // --postgres-url, SOC_POSTGRES_URL
	PostgresSchema   string        // --postgres-schema, SOC_POSTGRES_SCHEMA
	KafkaBrokers     []string      // --kafka-brokers, SOC_KAFKA_BROKERS (comma-separated)
	KafkaTopicPrefix string        // --kafka-topic-prefix, SOC_KAFKA_TOPIC_PREFIX
	LogLevel         string        // --log-level, SOC_LOG_LEVEL
	ShutdownTimeout  time.Duration // --shutdown-timeout, SOC_SHUTDOWN_TIMEOUT
	SQLiteSync       string        // --sqlite-synchronous, SOC_SQLITE_SYNCHRONOUS
	MaxImportBytes   int64         // --max-import-bytes, SOC_MAX_IMPORT_BYTES
	// SLAPolicyFile is a JSON SLA policy ({"days": {"critical": 7, …}, "by_criticality": {…}}).
	SLAPolicyFile string // --sla-policy, SOC_SLA_POLICY
	// ReadSchema is the PostgreSQL schema of the read models (with --postgres-url; the embedded
	// default keeps them in <data>/readmodel.db).
	ReadSchema string // --read-schema, SOC_READ_SCHEMA
	// QueryMaxWait bounds how long a read with min_position waits for the projections.
	QueryMaxWait time.Duration // --query-max-wait, SOC_QUERY_MAX_WAIT
	// ProjectionBatch is the most events a projection applies in one transaction.
	ProjectionBatch int // --projection-batch, SOC_PROJECTION_BATCH
	// QueryCacheBytes bounds the query API's response cache (negative: no cache).
	QueryCacheBytes int64 // --query-cache-bytes, SOC_QUERY_CACHE_BYTES

	// Notifications (the channels themselves are configured by SOC_SMTP_*, SOC_SLACK_*,
	// SOC_TEAMS_*, SOC_WEBHOOK_*, SOC_SMS_*: nothing is sent anywhere unless configured).
	NotifyDirectory   string        // --notify-directory, SOC_NOTIFY_DIRECTORY
	NotifyTemplates   string        // --notify-templates, SOC_NOTIFY_TEMPLATES
	PublicURL         string        // --public-url, SOC_PUBLIC_URL
	NotifyMaxAttempts int           // --notify-max-attempts, SOC_NOTIFY_MAX_ATTEMPTS
	NotifyBackoff     time.Duration // --notify-backoff, SOC_NOTIFY_BACKOFF
	NotifyMaxBackoff  time.Duration // --notify-max-backoff, SOC_NOTIFY_MAX_BACKOFF
	// NotifyAttemptTimeout bounds one delivery attempt; an attempt left without outcome by a
	// crashed process is retried (same message id) once it and the record timeout have passed.
	NotifyAttemptTimeout time.Duration // --notify-attempt-timeout, SOC_NOTIFY_ATTEMPT_TIMEOUT
	SLAReminderBefore    time.Duration // --sla-reminder-before, SOC_SLA_REMINDER_BEFORE
	// Scans.
	ScanAllowedTargets []string // --scan-allowed-targets, SOC_SCAN_ALLOWED_TARGETS (CIDRs)
	NmapPath           string   // --nmap-path, SOC_NMAP_PATH
	ScanConcurrency    int      // --scan-concurrency, SOC_SCAN_CONCURRENCY
	// SnapshotDir holds this node's lookup snapshots ("": <data>/snapshots; "off": none).
	SnapshotDir string // --snapshot-dir, SOC_SNAPSHOT_DIR
}

// bindFlags declares the flags shared by every sub-command that opens the store, with their
// environment variables as defaults.
func bindFlags(fs *flag.FlagSet, c *Config, serve bool) {
	fs.StringVar(&c.DataDir, "data", env("SOC_DATA_DIR", "./data"), "data directory of the embedded default (SOC_DATA_DIR)")
	fs.StringVar(&c.PostgresURL, "postgres-url", env("SOC_POSTGRES_URL", ""), "PostgreSQL URL for the event store; empty: embedded SQLite (SOC_POSTGRES_URL)")
	fs.StringVar(&c.PostgresSchema, "postgres-schema", env("SOC_POSTGRES_SCHEMA", "soc"), "PostgreSQL schema holding the event store (SOC_POSTGRES_SCHEMA)")
	fs.StringVar(&c.SQLiteSync, "sqlite-synchronous", env("SOC_SQLITE_SYNCHRONOUS", "FULL"), "SQLite synchronous mode, FULL or NORMAL (SOC_SQLITE_SYNCHRONOUS)")
	fs.StringVar(&c.LogLevel, "log-level", env("SOC_LOG_LEVEL", "info"), "debug, info, warn or error (SOC_LOG_LEVEL)")
	fs.StringVar(&c.ReadSchema, "read-schema", env("SOC_READ_SCHEMA", "soc_read"), "PostgreSQL schema holding the read models (SOC_READ_SCHEMA)")
	pb, err := strconv.Atoi(env("SOC_PROJECTION_BATCH", "1000"))
	if err != nil {
		pb = -1 // reported by Validate
	}
	fs.IntVar(&c.ProjectionBatch, "projection-batch", pb, "most events a projection applies in one transaction (SOC_PROJECTION_BATCH)")
	if !serve {
		return
	}
	fs.StringVar(&c.HTTPAddr, "http", env("SOC_HTTP_ADDR", ":8080"), "HTTP listen address (SOC_HTTP_ADDR)")
	fs.Func("target", "comma-separated targets to run, or all (SOC_TARGET; see --list-targets)", func(s string) error {
		c.Targets = splitList(s)
		return nil
	})
	c.Targets = splitList(env("SOC_TARGET", "all"))
	fs.Func("kafka-brokers", "comma-separated Kafka seed brokers; empty: the store is the log (SOC_KAFKA_BROKERS)", func(s string) error {
		c.KafkaBrokers = splitList(s)
		return nil
	})
	c.KafkaBrokers = splitList(env("SOC_KAFKA_BROKERS", ""))
	fs.StringVar(&c.KafkaTopicPrefix, "kafka-topic-prefix", env("SOC_KAFKA_TOPIC_PREFIX", "soc"), "topics are <prefix>.<context>.events (SOC_KAFKA_TOPIC_PREFIX)")
	maxImport, err := strconv.ParseInt(env("SOC_MAX_IMPORT_BYTES", "268435456"), 10, 64)
	if err != nil {
		maxImport = -1 // reported by Validate
	}
	fs.Int64Var(&c.MaxImportBytes, "max-import-bytes", maxImport, "largest scanner report accepted, in bytes; larger get 413 (SOC_MAX_IMPORT_BYTES)")
	fs.StringVar(&c.SnapshotDir, "snapshot-dir", env("SOC_SNAPSHOT_DIR", ""), "directory of this node's snapshots of the lookups of the importer, the CVE catalogue, the scan orchestrator, the notifier and the sagas' dispatcher and timers, so a restart reads only the events after them; empty: <data>/snapshots; off: none, every start replays the whole log (SOC_SNAPSHOT_DIR)")
	fs.StringVar(&c.SLAPolicyFile, "sla-policy", env("SOC_SLA_POLICY", ""), "JSON file with the remediation SLA in days by severity and per asset criticality; default critical 7, high 30, medium 90, low 120 (SOC_SLA_POLICY)")
	qw, err := time.ParseDuration(env("SOC_QUERY_MAX_WAIT", "5s"))
	if err != nil {
		qw = -1 // reported by Validate
	}
	fs.DurationVar(&c.QueryMaxWait, "query-max-wait", qw, "longest a read with min_position waits for the read models to catch up before 503 (SOC_QUERY_MAX_WAIT)")
	qc, err := strconv.ParseInt(env("SOC_QUERY_CACHE_BYTES", "67108864"), 10, 64)
	if err != nil {
		qc = 0 // reported by Validate
	}
	fs.Int64Var(&c.QueryCacheBytes, "query-cache-bytes", qc, "memory for cached query responses, kept while the read models do not change; -1 disables (SOC_QUERY_CACHE_BYTES)")
	fs.StringVar(&c.NotifyDirectory, "notify-directory", env("SOC_NOTIFY_DIRECTORY", ""), "JSON file of the people and teams notified (users with email/phone/lead/channels/preferences, teams with members and lead, fallback); empty: nobody (SOC_NOTIFY_DIRECTORY)")
	fs.StringVar(&c.NotifyTemplates, "notify-templates", env("SOC_NOTIFY_TEMPLATES", ""), "directory of <kind>/<part>.tmpl files overriding the default notification templates (SOC_NOTIFY_TEMPLATES)")
	fs.StringVar(&c.PublicURL, "public-url", env("SOC_PUBLIC_URL", ""), "base URL of this platform, for links in notifications (SOC_PUBLIC_URL)")
	fs.IntVar(&c.NotifyMaxAttempts, "notify-max-attempts", envInt("SOC_NOTIFY_MAX_ATTEMPTS", 8), "delivery attempts of a notification before it is dead-lettered (SOC_NOTIFY_MAX_ATTEMPTS)")
	fs.DurationVar(&c.NotifyBackoff, "notify-backoff", envDuration("SOC_NOTIFY_BACKOFF", "30s"), "wait after a failed delivery, doubling per attempt (SOC_NOTIFY_BACKOFF)")
	fs.DurationVar(&c.NotifyMaxBackoff, "notify-max-backoff", envDuration("SOC_NOTIFY_MAX_BACKOFF", "1h"), "longest wait between delivery attempts (SOC_NOTIFY_MAX_BACKOFF)")
	fs.DurationVar(&c.NotifyAttemptTimeout, "notify-attempt-timeout", envDuration("SOC_NOTIFY_ATTEMPT_TIMEOUT", "30s"), "longest one delivery attempt may take; an attempt a crash interrupted is retried with the same message id after this plus 10s (SOC_NOTIFY_ATTEMPT_TIMEOUT)")
	fs.DurationVar(&c.SLAReminderBefore, "sla-reminder-before", envDuration("SOC_SLA_REMINDER_BEFORE", "72h"), "how long before a finding's due date its owners are reminded (SOC_SLA_REMINDER_BEFORE)")
	fs.Func("scan-allowed-targets", "comma-separated CIDRs scans may reach (SOC_SCAN_ALLOWED_TARGETS; default loopback only)", func(s string) error {
		c.ScanAllowedTargets = splitList(s)
		return nil
	})
	c.ScanAllowedTargets = splitList(env("SOC_SCAN_ALLOWED_TARGETS", "127.0.0.0/8,::1/128"))
	fs.StringVar(&c.NmapPath, "nmap-path", env("SOC_NMAP_PATH", "nmap"), "the nmap binary (SOC_NMAP_PATH)")
	fs.IntVar(&c.ScanConcurrency, "scan-concurrency", envInt("SOC_SCAN_CONCURRENCY", 2), "scans run at once on this node (SOC_SCAN_CONCURRENCY)")
	d, err := time.ParseDuration(env("SOC_SHUTDOWN_TIMEOUT", "30s"))
	if err != nil {
		d = -1 // reported by Validate
	}
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", d, "how long a graceful shutdown may take (SOC_SHUTDOWN_TIMEOUT)")
}

var readSchemaRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envInt reads an integer variable; an unparsable value becomes -1, which Validate reports.
func envInt(name string, def int) int {
	v, ok := os.LookupEnv(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// envDuration reads a duration variable; an unparsable value becomes -1, which Validate reports.
func envDuration(name, def string) time.Duration {
	d, err := time.ParseDuration(env(name, def))
	if err != nil {
		return -1
	}
	return d
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate reports every problem at once, so an operator fixes the configuration in one go.
func (c *Config) Validate(serve bool) error {
	var errs []error
	if c.PostgresURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data/SOC_DATA_DIR: required when no PostgreSQL URL is set"))
	}
	if c.PostgresURL != "" {
		if u, err := url.Parse(c.PostgresURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("--postgres-url/SOC_POSTGRES_URL: must be a postgres:// URL"))
		}
	}
	switch strings.ToUpper(c.SQLiteSync) {
	case "FULL", "NORMAL":
	default:
		errs = append(errs, fmt.Errorf("--sqlite-synchronous/SOC_SQLITE_SYNCHRONOUS: %q is not FULL or NORMAL", c.SQLiteSync))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level/SOC_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	if !readSchemaRe.MatchString(c.ReadSchema) {
		errs = append(errs, fmt.Errorf("--read-schema/SOC_READ_SCHEMA: %q is not a lower-case SQL identifier", c.ReadSchema))
	} else if c.PostgresURL != "" && c.ReadSchema == c.PostgresSchema {
		errs = append(errs, errors.New("--read-schema/SOC_READ_SCHEMA: must differ from --postgres-schema (read models are rebuilt and swapped; the events are not)"))
	}
	if c.ProjectionBatch < 1 || c.ProjectionBatch > 10000 {
		errs = append(errs, errors.New("--projection-batch/SOC_PROJECTION_BATCH: must be between 1 and 10000"))
	}
	if !serve {
		return errors.Join(errs...)
	}
	if c.QueryCacheBytes == 0 {
		errs = append(errs, errors.New("--query-cache-bytes/SOC_QUERY_CACHE_BYTES: a number of bytes, or -1 to disable the cache"))
	}
	if c.QueryMaxWait <= 0 || c.QueryMaxWait > time.Minute {
		errs = append(errs, errors.New("--query-max-wait/SOC_QUERY_MAX_WAIT: must be a positive duration of at most 1m"))
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("--http/SOC_HTTP_ADDR: %q is not host:port", c.HTTPAddr))
	}
	if c.MaxImportBytes <= 0 {
		errs = append(errs, errors.New("--max-import-bytes/SOC_MAX_IMPORT_BYTES: must be a positive number of bytes"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout/SOC_SHUTDOWN_TIMEOUT: must be a positive duration"))
	}
	for _, b := range c.KafkaBrokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("--kafka-brokers/SOC_KAFKA_BROKERS: %q is not host:port", b))
		}
	}
	if c.NotifyMaxAttempts < 1 || c.NotifyMaxAttempts > 100 {
		errs = append(errs, errors.New("--notify-max-attempts/SOC_NOTIFY_MAX_ATTEMPTS: want 1 to 100"))
	}
	if c.NotifyBackoff <= 0 || c.NotifyMaxBackoff <= 0 || c.NotifyBackoff > c.NotifyMaxBackoff {
		errs = append(errs, errors.New("--notify-backoff/SOC_NOTIFY_BACKOFF and --notify-max-backoff/SOC_NOTIFY_MAX_BACKOFF: positive durations, backoff <= max"))
	}
	if c.NotifyAttemptTimeout <= 0 || c.NotifyAttemptTimeout > 10*time.Minute {
		errs = append(errs, errors.New("--notify-attempt-timeout/SOC_NOTIFY_ATTEMPT_TIMEOUT: a positive duration of at most 10m"))
	}
	if c.SLAReminderBefore <= 0 {
		errs = append(errs, errors.New("--sla-reminder-before/SOC_SLA_REMINDER_BEFORE: must be a positive duration"))
	}
	if c.ScanConcurrency < 1 || c.ScanConcurrency > 64 {
		errs = append(errs, errors.New("--scan-concurrency/SOC_SCAN_CONCURRENCY: want 1 to 64"))
	}
	for _, p := range c.ScanAllowedTargets {
		if _, err := netip.ParsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("--scan-allowed-targets/SOC_SCAN_ALLOWED_TARGETS: %q is not a CIDR prefix", p))
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--public-url/SOC_PUBLIC_URL: %q is not an http(s) URL", c.PublicURL))
		}
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("--target/SOC_TARGET: at least one target is required"))
	}
	known := true
	for _, t := range c.Targets {
		if t == modules.All {
			continue
		}
		if m, ok := platformByName[t]; !ok || !m.Target {
			known = false
			errs = append(errs, fmt.Errorf("--target/SOC_TARGET: unknown target %q (known: all, %s)", t, strings.Join(targetNames(), ", ")))
		} else if m.needsKafka && len(c.KafkaBrokers) == 0 {
			errs = append(errs, fmt.Errorf("--target/SOC_TARGET: target %q needs --kafka-brokers/SOC_KAFKA_BROKERS", t))
		}
	}
	// The dependency graph refuses here, at start, a target whose companions are missing (for
	// example sagas without commands), rather than at the first command dispatched.
	if known && len(c.Targets) > 0 {
		if _, err := platformGraph.Resolve(c.Targets); err != nil {
			errs = append(errs, fmt.Errorf("--target/SOC_TARGET: %w", err))
		}
	}
	return errors.Join(errs...)
}

// redactedPostgresURL is the URL safe to log: no password.
func (c *Config) redactedPostgresURL() string {
	if c.PostgresURL == "" {
		return ""
	}
	u, err := url.Parse(c.PostgresURL)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

func targetNames() []string { return platformGraph.Targets() }
