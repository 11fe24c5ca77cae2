package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
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
	// RiskExpiryInterval is how often expired risk acceptances are looked for.
	RiskExpiryInterval time.Duration // --risk-expiry-interval, SOC_RISK_EXPIRY_INTERVAL
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
	fs.StringVar(&c.SLAPolicyFile, "sla-policy", env("SOC_SLA_POLICY", ""), "JSON file with the remediation SLA in days by severity and per asset criticality; default critical 7, high 30, medium 90, low 120 (SOC_SLA_POLICY)")
	re, err := time.ParseDuration(env("SOC_RISK_EXPIRY_INTERVAL", "1m"))
	if err != nil {
		re = -1 // reported by Validate
	}
	fs.DurationVar(&c.RiskExpiryInterval, "risk-expiry-interval", re, "how often expired risk acceptances reopen their findings (SOC_RISK_EXPIRY_INTERVAL)")
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
	if c.RiskExpiryInterval <= 0 {
		errs = append(errs, errors.New("--risk-expiry-interval/SOC_RISK_EXPIRY_INTERVAL: must be a positive duration"))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout/SOC_SHUTDOWN_TIMEOUT: must be a positive duration"))
	}
	for _, b := range c.KafkaBrokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("--kafka-brokers/SOC_KAFKA_BROKERS: %q is not host:port", b))
		}
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("--target/SOC_TARGET: at least one target is required"))
	}
	for _, t := range c.Targets {
		if t == "all" {
			continue
		}
		if _, ok := targets[t]; !ok {
			errs = append(errs, fmt.Errorf("--target/SOC_TARGET: unknown target %q (known: all, %s)", t, strings.Join(targetNames(), ", ")))
		} else if targets[t].needsKafka && len(c.KafkaBrokers) == 0 {
			errs = append(errs, fmt.Errorf("--target/SOC_TARGET: target %q needs --kafka-brokers/SOC_KAFKA_BROKERS", t))
		}
	}
	return errors.Join(errs...)
}

// enabled reports whether target t runs in this process.
func (c *Config) enabled(t string) bool {
	for _, x := range c.Targets {
		if x == t || x == "all" {
			return true
		}
	}
	return false
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

func targetNames() []string {
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
