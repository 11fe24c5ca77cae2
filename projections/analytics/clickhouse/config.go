package clickhouse

import (
	"errors"
	"flag"
	"net/url"
)

// Config points the analytics model at a ClickHouse server (flags and SOC_* variables through
// cmd/soc's envflag). An empty URL means the embedded default backend (analytics/sqlstore).
type Config struct {
	// URL is clickhouse-go's DSN over the native protocol:
	// clickhouse://user:password@host:9000/database?dial_timeout=5s. The HTTP protocol is not
	// offered: clickhouse-go's HTTP mode fails on ClickHouse 18.16 (DESIGN "Real servers").
	URL string
}

// RegisterFlags binds the configuration to fs (envflag maps it to SOC_CLICKHOUSE_URL).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "clickhouse-url", "", "ClickHouse native-protocol URL for the analytics model (clickhouse://127.0.0.1:9000/default); empty: the embedded default")
}

// Validate reports every invalid setting, naming its flag (never the password).
func (c *Config) Validate() error {
	if c.URL == "" {
		return nil
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		return errors.New("--clickhouse-url/SOC_CLICKHOUSE_URL: not a URL")
	}
	var errs []error
	if u.Scheme != "clickhouse" && u.Scheme != "tcp" {
		errs = append(errs, errors.New("--clickhouse-url/SOC_CLICKHOUSE_URL: must be a clickhouse:// (native protocol) URL"))
	}
	if u.Host == "" {
		errs = append(errs, errors.New("--clickhouse-url/SOC_CLICKHOUSE_URL: names no host"))
	}
	return errors.Join(errs...)
}

// Enabled reports whether ClickHouse serves the analytics model.
func (c *Config) Enabled() bool { return c.URL != "" }

// redacted is the URL without its password, for errors and logs.
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable clickhouse URL)"
	}
	return u.Redacted()
}
