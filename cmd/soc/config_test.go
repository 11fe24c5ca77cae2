package main

import (
	"bytes"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// parseServeConfig binds serve's flags (reading the environment) and parses args.
func parseServeConfig(t testing.TB, args ...string) *Config {
	t.Helper()
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg Config
	bindFlags(fs, &cfg, true)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return &cfg
}

// TestServeHelpListsChannelFlags: the notification channels are configured like everything
// else, so `soc serve --help` lists them with their variables, and shows no secret.
func TestServeHelpListsChannelFlags(t *testing.T) {
	const secret = "hunter2-help-secret"
	t.Setenv("SOC_SMTP_PASSWORD", secret)
	t.Setenv("SOC_WEBHOOK_SECRET", secret)
	t.Setenv("SOC_POSTGRES_URL", "postgres://soc:"+secret+"@db/soc")
	var out, errOut bytes.Buffer
	if code := run([]string{"serve", "--help"}, &out, &errOut); code != 0 {
		t.Fatalf("soc serve --help exited %d: %s", code, errOut.String())
	}
	help := out.String() + errOut.String()
	for _, want := range []string{
		"-smtp-addr", "(SOC_SMTP_ADDR)", "-smtp-password", "(SOC_SMTP_PASSWORD or SOC_SMTP_PASSWORD_FILE)",
		"-smtp-starttls", "(SOC_SMTP_STARTTLS)", "-smtp-ca-file", "(SOC_SMTP_CA_FILE)",
		"-slack-webhook-url", "SOC_SLACK_WEBHOOK_URL", "-teams-webhook-url", "SOC_TEAMS_WEBHOOK_URL",
		"-webhook-url", "(SOC_WEBHOOK_URL)", "-webhook-secret", "SOC_WEBHOOK_SECRET_FILE",
		"-sms-url", "-sms-account-sid", "(SOC_SMS_ACCOUNT_SID)", "-sms-auth-token", "SOC_SMS_AUTH_TOKEN", "-sms-from",
		"-http", "(SOC_HTTP_ADDR)", "-data", "(SOC_DATA_DIR)", "-target", "(SOC_TARGET)",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("soc serve --help does not mention %s", want)
		}
	}
	if strings.Contains(help, secret) {
		t.Fatalf("soc serve --help shows a secret:\n%s", help)
	}
}

// TestInvalidChannelIsReportedWithOtherProblems: a bad channel setting is in the single
// all-problems-at-once error, next to another component's problem.
func TestInvalidChannelIsReportedWithOtherProblems(t *testing.T) {
	t.Setenv("SOC_SMTP_ADDR", "nohost")
	t.Setenv("SOC_SMTP_FROM", "soc@example.com")
	t.Setenv("SOC_SMS_ACCOUNT_SID", "AC123")
	cfg := parseServeConfig(t, "--http", "nonsense", "--webhook-url", "ftp://example.com/hook")
	err := cfg.Validate(true)
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"--http/SOC_HTTP_ADDR", "SOC_SMTP_ADDR", "SOC_WEBHOOK_URL", "SOC_WEBHOOK_SECRET", "SOC_SMS_AUTH_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the configuration error does not mention %s:\n%v", want, err)
		}
	}
	// Unset channels are off, not invalid.
	for _, off := range []string{"slack config", "teams config"} {
		if strings.Contains(err.Error(), off) {
			t.Errorf("the unset channel %q is reported:\n%v", off, err)
		}
	}
}

func TestConfigSecretsFromFile(t *testing.T) {
	write := tempFiles(t)
	t.Setenv("SOC_SMTP_PASSWORD_FILE", write("smtp", "mail-pw\n"))
	t.Setenv("SOC_POSTGRES_URL_FILE", write("pg", "postgres://soc:pg-pw@db/soc\n"))
	t.Setenv("SOC_SMS_AUTH_TOKEN_FILE", write("sms", "sms-token"))
	cfg := parseServeConfig(t)
	if cfg.Channels.SMTP.Password != "mail-pw" || cfg.PostgresURL != "postgres://soc:pg-pw@db/soc" || cfg.Channels.SMS.AuthToken != "sms-token" {
		t.Fatalf("secrets from files: smtp %q, sms %q, postgres %q", cfg.Channels.SMTP.Password, cfg.Channels.SMS.AuthToken, cfg.redactedPostgresURL())
	}
	// A flag still wins over the file.
	if cfg := parseServeConfig(t, "--smtp-password", "from-flag"); cfg.Channels.SMTP.Password != "from-flag" {
		t.Fatalf("flag lost to the file: %q", cfg.Channels.SMTP.Password)
	}
	t.Setenv("SOC_SMTP_PASSWORD_FILE", filepath.Join(t.TempDir(), "missing"))
	err := parseServeConfig(t).Validate(true)
	if err == nil || !strings.Contains(err.Error(), "SOC_SMTP_PASSWORD_FILE") {
		t.Fatalf("a missing secret file is not reported: %v", err)
	}
}

func TestConfigFlagBeatsEnv(t *testing.T) {
	t.Setenv("SOC_HTTP_ADDR", ":9000")
	t.Setenv("SOC_TARGET", "commands")
	t.Setenv("SOC_NOTIFY_MAX_ATTEMPTS", "5")
	t.Setenv("SOC_SMTP_ADDR", "env.example.com:25")
	cfg := parseServeConfig(t, "--http", ":7000", "--target", "commands,query", "--smtp-addr", "flag.example.com:587")
	if cfg.HTTPAddr != ":7000" || strings.Join(cfg.Targets, ",") != "commands,query" || cfg.Channels.SMTP.Addr != "flag.example.com:587" {
		t.Fatalf("flags did not win: %q %v %q", cfg.HTTPAddr, cfg.Targets, cfg.Channels.SMTP.Addr)
	}
	if cfg.NotifyMaxAttempts != 5 {
		t.Fatalf("the environment was not applied: %d", cfg.NotifyMaxAttempts)
	}
}

// TestConfigEnvironmentVariables: every SOC_* variable soc has read keeps its name and meaning.
func TestConfigEnvironmentVariables(t *testing.T) {
	for _, tc := range []struct {
		env, value string
		got        func(*Config) any
		want       any
	}{
		{"SOC_HTTP_ADDR", "127.0.0.1:9", func(c *Config) any { return c.HTTPAddr }, "127.0.0.1:9"},
		{"SOC_DATA_DIR", "/var/soc", func(c *Config) any { return c.DataDir }, "/var/soc"},
		{"SOC_TARGET", "commands, query", func(c *Config) any { return c.Targets }, []string{"commands", "query"}},
		{"SOC_POSTGRES_URL", "postgres://db/soc", func(c *Config) any { return c.PostgresURL }, "postgres://db/soc"},
		{"SOC_POSTGRES_SCHEMA", "events", func(c *Config) any { return c.PostgresSchema }, "events"},
		{"SOC_KAFKA_BROKERS", "k1:9092,k2:9092", func(c *Config) any { return c.KafkaBrokers }, []string{"k1:9092", "k2:9092"}},
		{"SOC_KAFKA_TOPIC_PREFIX", "prod", func(c *Config) any { return c.KafkaTopicPrefix }, "prod"},
		{"SOC_LOG_LEVEL", "debug", func(c *Config) any { return c.LogLevel }, "debug"},
		{"SOC_SHUTDOWN_TIMEOUT", "5s", func(c *Config) any { return c.ShutdownTimeout }, 5 * time.Second},
		{"SOC_SQLITE_SYNCHRONOUS", "NORMAL", func(c *Config) any { return c.SQLiteSync }, "NORMAL"},
		{"SOC_MAX_IMPORT_BYTES", "1024", func(c *Config) any { return c.MaxImportBytes }, int64(1024)},
		{"SOC_IMPORT_WORKERS", "3", func(c *Config) any { return c.ImportWorkers }, 3},
		{"SOC_IMPORT_QUEUE", "7", func(c *Config) any { return c.ImportQueue }, 7},
		{"SOC_IMPORT_UPLOADS_PER_CLIENT", "2", func(c *Config) any { return c.ImportUploadsPerClient }, 2},
		{"SOC_IMPORT_SPOOL_DIR", "/var/spool/soc", func(c *Config) any { return c.ImportSpoolDir }, "/var/spool/soc"},
		{"SOC_SLA_POLICY", "/etc/sla.json", func(c *Config) any { return c.SLAPolicyFile }, "/etc/sla.json"},
		{"SOC_READ_SCHEMA", "reads", func(c *Config) any { return c.ReadSchema }, "reads"},
		{"SOC_QUERY_MAX_WAIT", "2s", func(c *Config) any { return c.QueryMaxWait }, 2 * time.Second},
		{"SOC_PROJECTION_BATCH", "10", func(c *Config) any { return c.ProjectionBatch }, 10},
		{"SOC_QUERY_CACHE_BYTES", "-1", func(c *Config) any { return c.QueryCacheBytes }, int64(-1)},
		{"SOC_NOTIFY_DIRECTORY", "/etc/dir.json", func(c *Config) any { return c.NotifyDirectory }, "/etc/dir.json"},
		{"SOC_NOTIFY_TEMPLATES", "/etc/tmpl", func(c *Config) any { return c.NotifyTemplates }, "/etc/tmpl"},
		{"SOC_PUBLIC_URL", "https://soc.example.com", func(c *Config) any { return c.PublicURL }, "https://soc.example.com"},
		{"SOC_NOTIFY_MAX_ATTEMPTS", "3", func(c *Config) any { return c.NotifyMaxAttempts }, 3},
		{"SOC_NOTIFY_BACKOFF", "1s", func(c *Config) any { return c.NotifyBackoff }, time.Second},
		{"SOC_NOTIFY_MAX_BACKOFF", "1m", func(c *Config) any { return c.NotifyMaxBackoff }, time.Minute},
		{"SOC_NOTIFY_ATTEMPT_TIMEOUT", "10s", func(c *Config) any { return c.NotifyAttemptTimeout }, 10 * time.Second},
		{"SOC_SLA_REMINDER_BEFORE", "24h", func(c *Config) any { return c.SLAReminderBefore }, 24 * time.Hour},
		{"SOC_SCAN_ALLOWED_TARGETS", "10.0.0.0/8", func(c *Config) any { return c.ScanAllowedTargets }, []string{"10.0.0.0/8"}},
		{"SOC_NMAP_PATH", "/usr/bin/nmap", func(c *Config) any { return c.NmapPath }, "/usr/bin/nmap"},
		{"SOC_SCAN_CONCURRENCY", "4", func(c *Config) any { return c.ScanConcurrency }, 4},
		{"SOC_SNAPSHOT_DIR", "off", func(c *Config) any { return c.SnapshotDir }, "off"},
		{"SOC_SMTP_ADDR", "mail:25", func(c *Config) any { return c.Channels.SMTP.Addr }, "mail:25"},
		{"SOC_SMTP_FROM", "soc@example.com", func(c *Config) any { return c.Channels.SMTP.From }, "soc@example.com"},
		{"SOC_SMTP_USERNAME", "bot", func(c *Config) any { return c.Channels.SMTP.Username }, "bot"},
		{"SOC_SMTP_PASSWORD", "pw", func(c *Config) any { return c.Channels.SMTP.Password }, "pw"},
		{"SOC_SMTP_STARTTLS", "false", func(c *Config) any { return c.Channels.SMTP.StartTLS }, false},
		{"SOC_SMTP_CA_FILE", "/etc/ca.pem", func(c *Config) any { return c.Channels.SMTP.CAFile }, "/etc/ca.pem"},
		{"SOC_SLACK_WEBHOOK_URL", "https://hooks.slack.com/x", func(c *Config) any { return c.Channels.Slack.WebhookURL }, "https://hooks.slack.com/x"},
		{"SOC_TEAMS_WEBHOOK_URL", "https://teams.example.com/x", func(c *Config) any { return c.Channels.Teams.WebhookURL }, "https://teams.example.com/x"},
		{"SOC_WEBHOOK_URL", "https://hooks.example.com/soc", func(c *Config) any { return c.Channels.Webhook.URL }, "https://hooks.example.com/soc"},
		{"SOC_WEBHOOK_SECRET", "0123456789abcdef", func(c *Config) any { return c.Channels.Webhook.Secret }, "0123456789abcdef"},
		{"SOC_SMS_URL", "https://sms.example.com", func(c *Config) any { return c.Channels.SMS.BaseURL }, "https://sms.example.com"},
		{"SOC_SMS_ACCOUNT_SID", "AC1", func(c *Config) any { return c.Channels.SMS.AccountSID }, "AC1"},
		{"SOC_SMS_AUTH_TOKEN", "tok", func(c *Config) any { return c.Channels.SMS.AuthToken }, "tok"},
		{"SOC_SMS_FROM", "+14155550100", func(c *Config) any { return c.Channels.SMS.From }, "+14155550100"},
		{"SOC_OTLP_ENDPOINT", "http://127.0.0.1:4318", func(c *Config) any { return c.Tracing.OTLPEndpoint }, "http://127.0.0.1:4318"},
		{"SOC_TRACE_SAMPLE_RATIO", "0.5", func(c *Config) any { return c.Tracing.SampleRatio }, 0.5},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			if got := tc.got(parseServeConfig(t)); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("%s=%s gives %#v, want %#v", tc.env, tc.value, got, tc.want)
			}
		})
	}
	// The other sub-commands read the store's and the read side's variables too.
	t.Setenv("SOC_DATA_DIR", "/var/soc-tools")
	t.Setenv("SOC_READ_SCHEMA", "tools_read")
	cmd := &cobra.Command{}
	cfg := toolConfig(cmd)
	if err := cmd.ParseFlags(nil); err != nil || cfg.DataDir != "/var/soc-tools" || cfg.ReadSchema != "tools_read" {
		t.Fatalf("tool flags: %v %q %q", err, cfg.DataDir, cfg.ReadSchema)
	}
}

// TestConfigUnparsableEnvironmentIsNamed: a value that is not a number, duration or boolean is
// reported with the variable's name, with every other problem.
func TestConfigUnparsableEnvironmentIsNamed(t *testing.T) {
	t.Setenv("SOC_PROJECTION_BATCH", "lots")
	t.Setenv("SOC_QUERY_MAX_WAIT", "soon")
	t.Setenv("SOC_SMTP_STARTTLS", "maybe")
	t.Setenv("SOC_SCAN_CONCURRENCY", "many")
	err := parseServeConfig(t, "--log-level", "loud").Validate(true)
	if err == nil {
		t.Fatal("unparsable values accepted")
	}
	for _, want := range []string{"SOC_PROJECTION_BATCH", "SOC_QUERY_MAX_WAIT", "SOC_SMTP_STARTTLS", `"maybe"`, "SOC_SCAN_CONCURRENCY", "--log-level"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the configuration error does not mention %s:\n%v", want, err)
		}
	}
}

func TestImportBoundsAreValidated(t *testing.T) {
	err := parseServeConfig(t, "--import-workers", "0", "--import-queue", "0", "--import-uploads-per-client", "0").Validate(true)
	for _, want := range []string{"SOC_IMPORT_WORKERS", "SOC_IMPORT_QUEUE", "SOC_IMPORT_UPLOADS_PER_CLIENT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the configuration error does not mention %s:\n%v", want, err)
		}
	}
	if err := parseServeConfig(t).Validate(true); err != nil {
		t.Fatalf("the default import bounds are refused: %v", err)
	}
}
