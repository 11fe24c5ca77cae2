package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
	"github.com/socplatform/soc/cmd/soc/internal/modules"
	"github.com/socplatform/soc/cmd/soc/internal/tracing"
	"github.com/socplatform/soc/commands/notifications/channels"
	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/projections/analytics/clickhouse"
	"github.com/spf13/pflag"
)

// Config is everything `soc` reads from flags and SOC_* environment variables. It is composed of
// one Config per component, each declaring its own flags and checking its own values; the
// embedding keeps their fields addressable as before (cfg.PostgresURL). Every flag has a
// variable derived from its name (--smtp-password ↔ SOC_SMTP_PASSWORD, see envOverrides for the
// exceptions); a flag wins over its variable. An unset backend means the embedded default
// (SQLite in the data directory, the store itself as the log).
type Config struct {
	StoreConfig
	ReadSideConfig
	HTTPConfig
	// CORS is the browser origins allowed to call the API cross-site (--cors-origins).
	CORS CORSConfig
	KafkaConfig
	QueryConfig
	ImportConfig
	SnapshotConfig
	ScanConfig
	NotifierConfig
	SagaConfig
	IdentityConfig
	GatewayConfig
	ConsulConfig
	// Channels are the notification channels; nothing is sent anywhere unless configured.
	Channels ChannelsConfig
	// Tracing exports OpenTelemetry spans (--otlp-endpoint); off unless configured.
	Tracing tracing.Config
	// Analytics puts the analytics model on ClickHouse (--clickhouse-url); unset, it is a read
	// model beside the others (analytics.go).
	Analytics clickhouse.Config
	// Search puts the search model on Elasticsearch or OpenSearch (--elasticsearch-url,
	// --opensearch-url); unset, it is SQLite FTS5 in the data directory (search.go).
	Search SearchConfig

	Targets         []string      // --target
	LogLevel        string        // --log-level
	ShutdownTimeout time.Duration // --shutdown-timeout

	// envErr holds the environment values bindFlags could not use; Validate reports them with
	// every other problem.
	envErr error
}

// envOverrides are the flags whose variable predates the derivation and keeps its name.
var envOverrides = map[string]string{
	"http": "SOC_HTTP_ADDR",
	"data": "SOC_DATA_DIR",
}

// bindFlags declares the flags of every sub-command that opens the store (serve: all of them),
// each with its SOC_* variable, and applies the environment; fs.Parse then lets flags win. The
// components declare standard flags (they need no CLI library); envflag adds them to fs.
func bindFlags(fs *pflag.FlagSet, c *Config, serve bool) {
	c.envErr = envflag.Bind(fs, func(fs *flag.FlagSet) { c.RegisterFlags(fs, serve) }, envOverrides)
}

// RegisterFlags declares the components' flags: those of the store and the read side for every
// sub-command, all of them for serve.
func (c *Config) RegisterFlags(fs *flag.FlagSet, serve bool) {
	c.StoreConfig.RegisterFlags(fs)
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	c.ReadSideConfig.RegisterFlags(fs)
	c.Analytics.RegisterFlags(fs)
	c.Search.RegisterFlags(fs)
	if !serve {
		return
	}
	c.Targets = []string{modules.All}
	fs.Var(envflag.List(&c.Targets), "target", "comma-separated targets to run, or all (see --list-targets)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a graceful shutdown may take")
	c.HTTPConfig.RegisterFlags(fs)
	c.CORS.RegisterFlags(fs)
	c.KafkaConfig.RegisterFlags(fs)
	c.ImportConfig.RegisterFlags(fs)
	c.SnapshotConfig.RegisterFlags(fs)
	c.SagaConfig.RegisterFlags(fs)
	c.QueryConfig.RegisterFlags(fs)
	c.NotifierConfig.RegisterFlags(fs)
	c.Channels.RegisterFlags(fs)
	c.ScanConfig.RegisterFlags(fs)
	c.IdentityConfig.RegisterFlags(fs)
	c.GatewayConfig.RegisterFlags(fs)
	c.ConsulConfig.RegisterFlags(fs)
	c.Tracing.RegisterFlags(fs)
}

// Validate reports every problem at once, so an operator fixes the configuration in one go.
func (c *Config) Validate(serve bool) error {
	errs := []error{c.envErr, c.StoreConfig.Validate()}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("--log-level/SOC_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	if err := c.ReadSideConfig.Validate(); err != nil {
		errs = append(errs, err)
	} else if c.PostgresURL != "" && c.ReadSchema == c.PostgresSchema {
		errs = append(errs, errors.New("--read-schema/SOC_READ_SCHEMA: must differ from --postgres-schema (read models are rebuilt and swapped; the events are not)"))
	}
	errs = append(errs, c.Analytics.Validate(), c.Search.Validate())
	if !serve {
		return errors.Join(errs...)
	}
	errs = append(errs,
		c.QueryConfig.Validate(),
		c.HTTPConfig.Validate(),
		c.CORS.Validate(),
		c.ImportConfig.Validate(),
	)
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("--shutdown-timeout/SOC_SHUTDOWN_TIMEOUT: must be a positive duration"))
	}
	errs = append(errs,
		c.KafkaConfig.Validate(),
		c.NotifierConfig.Validate(),
		c.SagaConfig.Validate(),
		c.ScanConfig.Validate(),
		c.SnapshotConfig.Validate(),
		c.Channels.Validate(),
		c.IdentityConfig.Validate(),
		c.GatewayConfig.Validate(),
		c.ConsulConfig.Validate(),
		c.Tracing.Validate(),
		c.validateTargets(),
	)
	return errors.Join(errs...)
}

func (c *Config) validateTargets() error {
	if len(c.Targets) == 0 {
		return errors.New("--target/SOC_TARGET: at least one target is required")
	}
	var errs []error
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
	if known {
		if _, err := platformGraph.Resolve(c.Targets); err != nil {
			errs = append(errs, fmt.Errorf("--target/SOC_TARGET: %w", err))
		}
	}
	if c.gatewayProxies() && c.Upstreams == "" && !c.Consul.Enabled() {
		errs = append(errs, errors.New("--upstreams/SOC_UPSTREAMS: the gateway target proxies the commands, query and notifier targets this node does not run: give --upstreams or --consul-addr"))
	}
	return errors.Join(errs...)
}

// gatewayProxies reports whether the node runs the gateway without all of the targets it fronts.
func (c *Config) gatewayProxies() bool {
	if slices.Contains(c.Targets, modules.All) || !slices.Contains(c.Targets, targetGateway) {
		return false
	}
	for _, t := range gatewayFronts {
		if !slices.Contains(c.Targets, t) {
			return true
		}
	}
	return false
}

func targetNames() []string { return platformGraph.Targets() }

// StoreConfig chooses the event store: PostgreSQL when a URL is set, else SQLite in DataDir.
type StoreConfig struct {
	DataDir        string // --data, SOC_DATA_DIR
	PostgresURL    string // --postgres-url; a secret (it may carry a password)
	PostgresSchema string // --postgres-schema
	SQLiteSync     string // --sqlite-synchronous
}

func (c *StoreConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DataDir, "data", "./data", "data directory of the embedded default")
	fs.Var(envflag.Secret(&c.PostgresURL), "postgres-url", "PostgreSQL URL for the event store; empty: embedded SQLite")
	fs.StringVar(&c.PostgresSchema, "postgres-schema", "soc", "PostgreSQL schema holding the event store")
	fs.StringVar(&c.SQLiteSync, "sqlite-synchronous", "FULL", "SQLite synchronous mode, FULL or NORMAL")
}

func (c *StoreConfig) Validate() error {
	var errs []error
	if c.PostgresURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data/SOC_DATA_DIR: required when no PostgreSQL URL is set"))
	}
	if c.PostgresURL != "" {
		// Never echo the URL: it may carry a password.
		if u, err := url.Parse(c.PostgresURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			errs = append(errs, errors.New("--postgres-url/SOC_POSTGRES_URL: must be a postgres:// URL"))
		}
	}
	switch strings.ToUpper(c.SQLiteSync) {
	case "FULL", "NORMAL":
	default:
		errs = append(errs, fmt.Errorf("--sqlite-synchronous/SOC_SQLITE_SYNCHRONOUS: %q is not FULL or NORMAL", c.SQLiteSync))
	}
	return errors.Join(errs...)
}

// redactedPostgresURL is the URL safe to log: no password.
func (c *StoreConfig) redactedPostgresURL() string {
	if c.PostgresURL == "" {
		return ""
	}
	u, err := url.Parse(c.PostgresURL)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// ReadSideConfig is where the projections keep the read models and how they apply events.
type ReadSideConfig struct {
	// ReadSchema is the PostgreSQL schema of the read models (with --postgres-url; the embedded
	// default keeps them in <data>/readmodel.db).
	ReadSchema string // --read-schema
	// ProjectionBatch is the most events a projection applies in one transaction.
	ProjectionBatch int // --projection-batch
}

var readSchemaRe = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

func (c *ReadSideConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.ReadSchema, "read-schema", "soc_read", "PostgreSQL schema holding the read models")
	fs.IntVar(&c.ProjectionBatch, "projection-batch", 1000, "most events a projection applies in one transaction")
}

func (c *ReadSideConfig) Validate() error {
	var errs []error
	if !readSchemaRe.MatchString(c.ReadSchema) {
		errs = append(errs, fmt.Errorf("--read-schema/SOC_READ_SCHEMA: %q is not a lower-case SQL identifier", c.ReadSchema))
	}
	if c.ProjectionBatch < 1 || c.ProjectionBatch > 10000 {
		errs = append(errs, errors.New("--projection-batch/SOC_PROJECTION_BATCH: must be between 1 and 10000"))
	}
	return errors.Join(errs...)
}

// HTTPConfig is the node's listener.
type HTTPConfig struct {
	HTTPAddr string // --http, SOC_HTTP_ADDR
	// MetricsToken, when set, is the bearer /metrics requires (a secret: SOC_METRICS_TOKEN or
	// SOC_METRICS_TOKEN_FILE); unset, /metrics is open like the probes.
	MetricsToken string
	// TrustGatewayKeys are the gateway public keys (PEM, <gateway key>.pub) whose Soc-Principal
	// header this node accepts in place of a credential; several while a key is rotated.
	TrustGatewayKeys []string // --trust-gateway-key, SOC_TRUST_GATEWAY_KEY
}

func (c *HTTPConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.HTTPAddr, "http", ":8080", "HTTP listen address")
	fs.Var(envflag.Secret(&c.MetricsToken), "metrics-token", "bearer token /metrics requires; empty: /metrics is unauthenticated")
	fs.Var(envflag.List(&c.TrustGatewayKeys), "trust-gateway-key", "comma-separated gateway public keys (<gateway key>.pub) whose signed Soc-Principal header this node accepts; empty: the header is refused")
}

func (c *HTTPConfig) Validate() error {
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("--http/SOC_HTTP_ADDR: %q is not host:port", c.HTTPAddr)
	}
	if _, err := gatewayTrust(c.TrustGatewayKeys); err != nil {
		return fmt.Errorf("--trust-gateway-key/SOC_TRUST_GATEWAY_KEY: %w", err)
	}
	return nil
}

// KafkaConfig is the event log between nodes; without brokers the store itself is the log.
type KafkaConfig struct {
	KafkaBrokers     []string // --kafka-brokers (comma-separated)
	KafkaTopicPrefix string   // --kafka-topic-prefix
}

func (c *KafkaConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Var(envflag.List(&c.KafkaBrokers), "kafka-brokers", "comma-separated Kafka seed brokers; empty: the store is the log")
	fs.StringVar(&c.KafkaTopicPrefix, "kafka-topic-prefix", "soc", "topics are <prefix>.<context>.events")
}

func (c *KafkaConfig) Validate() error {
	var errs []error
	for _, b := range c.KafkaBrokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			errs = append(errs, fmt.Errorf("--kafka-brokers/SOC_KAFKA_BROKERS: %q is not host:port", b))
		}
	}
	return errors.Join(errs...)
}

// QueryConfig tunes the query API.
type QueryConfig struct {
	// QueryMaxWait bounds how long a read with min_position waits for the projections.
	QueryMaxWait time.Duration // --query-max-wait
	// QueryCacheBytes bounds the query API's response cache (negative: no cache).
	QueryCacheBytes int64 // --query-cache-bytes
}

func (c *QueryConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.DurationVar(&c.QueryMaxWait, "query-max-wait", 5*time.Second, "longest a read with min_position waits for the read models to catch up before 503")
	fs.Int64Var(&c.QueryCacheBytes, "query-cache-bytes", 64<<20, "memory for cached query responses, kept while the read models do not change; -1 disables")
}

func (c *QueryConfig) Validate() error {
	var errs []error
	if c.QueryCacheBytes == 0 {
		errs = append(errs, errors.New("--query-cache-bytes/SOC_QUERY_CACHE_BYTES: a number of bytes, or -1 to disable the cache"))
	}
	if c.QueryMaxWait <= 0 || c.QueryMaxWait > time.Minute {
		errs = append(errs, errors.New("--query-max-wait/SOC_QUERY_MAX_WAIT: must be a positive duration of at most 1m"))
	}
	return errors.Join(errs...)
}

// ImportConfig bounds scanner report uploads and says where accepted ones wait.
type ImportConfig struct {
	MaxImportBytes         int64  // --max-import-bytes
	ImportWorkers          int    // --import-workers
	ImportQueue            int    // --import-queue
	ImportUploadsPerClient int    // --import-uploads-per-client
	ImportSpoolDir         string // --import-spool-dir ("": <data>/spool)
	// ReimportMaxCloseShare is the largest share of a scope's findings an import resolves by
	// not seeing them, unless the request says close_missing=true.
	ReimportMaxCloseShare float64 // --reimport-max-close-share
}

func (c *ImportConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.Int64Var(&c.MaxImportBytes, "max-import-bytes", 256<<20, "largest scanner report accepted, in bytes; larger get 413")
	fs.Float64Var(&c.ReimportMaxCloseShare, "reimport-max-close-share", scanapp.DefaultMaxCloseShare,
		"largest share (0 < share <= 1) of a scope's findings an import resolves by not seeing them; beyond, it resolves none unless the request says close_missing=true")
	fs.IntVar(&c.ImportWorkers, "import-workers", 2, "uploaded reports imported at once")
	fs.IntVar(&c.ImportQueue, "import-queue", 32, "uploaded reports accepted and waiting for a worker (uploads in progress included); beyond, 503 before the body is read")
	fs.IntVar(&c.ImportUploadsPerClient, "import-uploads-per-client", 4, "uploads one client (its IP address) may stream at once; beyond, 429")
	fs.StringVar(&c.ImportSpoolDir, "import-spool-dir", "", "where accepted reports wait for their import (kept across restarts: a restarted node resumes them); empty: <data>/spool")
}

func (c *ImportConfig) Validate() error {
	var errs []error
	if c.MaxImportBytes <= 0 {
		errs = append(errs, errors.New("--max-import-bytes/SOC_MAX_IMPORT_BYTES: must be a positive number of bytes"))
	}
	if c.ReimportMaxCloseShare <= 0 || c.ReimportMaxCloseShare > 1 {
		errs = append(errs, errors.New("--reimport-max-close-share/SOC_REIMPORT_MAX_CLOSE_SHARE: must be more than 0 and at most 1"))
	}
	if c.ImportWorkers < 1 || c.ImportWorkers > 64 {
		errs = append(errs, errors.New("--import-workers/SOC_IMPORT_WORKERS: want 1 to 64"))
	}
	if c.ImportQueue < 1 || c.ImportQueue > 100000 {
		errs = append(errs, errors.New("--import-queue/SOC_IMPORT_QUEUE: want 1 to 100000"))
	}
	if c.ImportUploadsPerClient < 1 || c.ImportUploadsPerClient > 1000 {
		errs = append(errs, errors.New("--import-uploads-per-client/SOC_IMPORT_UPLOADS_PER_CLIENT: want 1 to 1000"))
	}
	return errors.Join(errs...)
}

// SnapshotConfig is where this node keeps the snapshots of its lookups.
type SnapshotConfig struct {
	// SnapshotDir holds this node's lookup snapshots ("": <data>/snapshots; "off": none).
	SnapshotDir string // --snapshot-dir
}

func (c *SnapshotConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.SnapshotDir, "snapshot-dir", "", "directory of this node's snapshots of the lookups of the assets, the importer, the CVE catalogue, the scan orchestrator, the notifier and the sagas' dispatcher and timers, so a restart reads only the events after them; empty: <data>/snapshots; off: none, every start replays the whole log")
}

// Validate accepts any directory: whether it is writable shows when the first snapshot is taken,
// and a snapshot that cannot be written only costs a longer replay at the next start.
func (c *SnapshotConfig) Validate() error { return nil }

// ScanConfig is the scan orchestrator: what it may scan and how much at once.
type ScanConfig struct {
	ScanAllowedTargets []string // --scan-allowed-targets (CIDRs)
	NmapPath           string   // --nmap-path
	ScanConcurrency    int      // --scan-concurrency
}

func (c *ScanConfig) RegisterFlags(fs *flag.FlagSet) {
	c.ScanAllowedTargets = []string{"127.0.0.0/8", "::1/128"}
	fs.Var(envflag.List(&c.ScanAllowedTargets), "scan-allowed-targets", "comma-separated CIDRs scans may reach")
	fs.StringVar(&c.NmapPath, "nmap-path", "nmap", "the nmap binary")
	fs.IntVar(&c.ScanConcurrency, "scan-concurrency", 2, "scans run at once on this node")
}

func (c *ScanConfig) Validate() error {
	var errs []error
	if c.ScanConcurrency < 1 || c.ScanConcurrency > 64 {
		errs = append(errs, errors.New("--scan-concurrency/SOC_SCAN_CONCURRENCY: want 1 to 64"))
	}
	for _, p := range c.ScanAllowedTargets {
		if _, err := netip.ParsePrefix(p); err != nil {
			errs = append(errs, fmt.Errorf("--scan-allowed-targets/SOC_SCAN_ALLOWED_TARGETS: %q is not a CIDR prefix", p))
		}
	}
	return errors.Join(errs...)
}

// NotifierConfig is who is notified, how the messages look and how deliveries are retried.
type NotifierConfig struct {
	NotifyDirectory   string        // --notify-directory
	NotifyTemplates   string        // --notify-templates
	PublicURL         string        // --public-url
	NotifyMaxAttempts int           // --notify-max-attempts
	NotifyBackoff     time.Duration // --notify-backoff
	NotifyMaxBackoff  time.Duration // --notify-max-backoff
	// NotifyAttemptTimeout bounds one delivery attempt; an attempt left without outcome by a
	// crashed process is retried (same message id) once it and the record timeout have passed.
	NotifyAttemptTimeout time.Duration // --notify-attempt-timeout
}

func (c *NotifierConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.NotifyDirectory, "notify-directory", "", "JSON file of the people and teams notified (users with email/phone/lead/channels/preferences, teams with members and lead, fallback), instead of the identity context's users, teams and preferences; empty: identity (soc users import FILE moves such a file there)")
	fs.StringVar(&c.NotifyTemplates, "notify-templates", "", "directory of <kind>/<part>.tmpl files overriding the default notification templates")
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL of this platform, for links in notifications")
	fs.IntVar(&c.NotifyMaxAttempts, "notify-max-attempts", 8, "delivery attempts of a notification before it is dead-lettered")
	fs.DurationVar(&c.NotifyBackoff, "notify-backoff", 30*time.Second, "wait after a failed delivery, doubling per attempt")
	fs.DurationVar(&c.NotifyMaxBackoff, "notify-max-backoff", time.Hour, "longest wait between delivery attempts")
	fs.DurationVar(&c.NotifyAttemptTimeout, "notify-attempt-timeout", 30*time.Second, "longest one delivery attempt may take; an attempt a crash interrupted is retried with the same message id after this plus 10s")
}

func (c *NotifierConfig) Validate() error {
	var errs []error
	if c.NotifyMaxAttempts < 1 || c.NotifyMaxAttempts > 100 {
		errs = append(errs, errors.New("--notify-max-attempts/SOC_NOTIFY_MAX_ATTEMPTS: want 1 to 100"))
	}
	if c.NotifyBackoff <= 0 || c.NotifyMaxBackoff <= 0 || c.NotifyBackoff > c.NotifyMaxBackoff {
		errs = append(errs, errors.New("--notify-backoff/SOC_NOTIFY_BACKOFF and --notify-max-backoff/SOC_NOTIFY_MAX_BACKOFF: positive durations, backoff <= max"))
	}
	if c.NotifyAttemptTimeout <= 0 || c.NotifyAttemptTimeout > 10*time.Minute {
		errs = append(errs, errors.New("--notify-attempt-timeout/SOC_NOTIFY_ATTEMPT_TIMEOUT: a positive duration of at most 10m"))
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("--public-url/SOC_PUBLIC_URL: %q is not an http(s) URL", c.PublicURL))
		}
	}
	return errors.Join(errs...)
}

// SagaConfig is the remediation SLA the sagas enforce.
type SagaConfig struct {
	// SLAPolicyFile is a JSON SLA policy ({"days": {"critical": 7, …}, "by_criticality": {…}}).
	SLAPolicyFile     string        // --sla-policy
	SLAReminderBefore time.Duration // --sla-reminder-before
}

func (c *SagaConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.SLAPolicyFile, "sla-policy", "", "JSON file with the remediation SLA in days by severity and per asset criticality; default critical 7, high 30, medium 90, low 120")
	fs.DurationVar(&c.SLAReminderBefore, "sla-reminder-before", 72*time.Hour, "how long before a finding's due date its owners are reminded")
}

// Validate checks the reminder; the policy file is read, and its problems reported, when the
// sagas start (loadSLAPolicy), since only nodes running them need it.
func (c *SagaConfig) Validate() error {
	if c.SLAReminderBefore <= 0 {
		return errors.New("--sla-reminder-before/SOC_SLA_REMINDER_BEFORE: must be a positive duration")
	}
	return nil
}

// ChannelsConfig is the notification channels. A channel whose settings are all unset is off;
// one that is set is checked with the rest of the configuration, so a typo in an SMTP address
// stops the node at start, listed with every other problem.
type ChannelsConfig struct {
	SMTP    channels.SMTPConfig
	Slack   channels.SlackConfig
	Teams   channels.TeamsConfig
	Webhook channels.WebhookConfig
	SMS     channels.SMSConfig
}

func (c *ChannelsConfig) RegisterFlags(fs *flag.FlagSet) {
	c.SMTP.RegisterFlags(fs)
	c.Slack.RegisterFlags(fs)
	c.Teams.RegisterFlags(fs)
	c.Webhook.RegisterFlags(fs)
	c.SMS.RegisterFlags(fs)
}

func (c *ChannelsConfig) Validate() error {
	var errs []error
	for _, ch := range []interface {
		Configured() bool
		Validate() error
	}{c.SMTP, c.Slack, c.Teams, c.Webhook, c.SMS} {
		if ch.Configured() {
			errs = append(errs, ch.Validate())
		}
	}
	return errors.Join(errs...)
}
