// Package tracing exports OpenTelemetry traces over OTLP/HTTP (Setup) and traces the HTTP
// server (Middleware). Everything else (commands, the relay, projections, sagas) uses only the
// OpenTelemetry API: with no endpoint configured Setup installs nothing, their spans are the
// global no-op ones and tracing costs next to nothing.
package tracing

import (
	"errors"
	"flag"
	"net/url"
)

// Config is the tracing configuration (flags and SOC_* variables through envflag).
type Config struct {
	// OTLPEndpoint is the OTLP/HTTP collector's base URL (http://127.0.0.1:4318, spans are sent
	// to <base>/v1/traces) or the full URL of its traces path; empty turns tracing off.
	OTLPEndpoint string
	// SampleRatio of the traces this node starts (a request without a sampled traceparent); a
	// trace a caller already sampled (or not) keeps its decision.
	SampleRatio float64
}

// DefaultConfig is tracing off, every trace sampled once an endpoint is set.
func DefaultConfig() Config { return Config{SampleRatio: 1} }

// RegisterFlags binds the configuration to fs (envflag maps each to SOC_<NAME>).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", d.OTLPEndpoint, "OTLP/HTTP collector URL to export traces to (http://127.0.0.1:4318); empty turns tracing off")
	fs.Float64Var(&c.SampleRatio, "trace-sample-ratio", d.SampleRatio, "share (0 to 1) of the traces this node starts that are sampled; a caller's sampled traceparent is always followed")
}

// Validate reports every invalid setting, each naming its flag.
func (c *Config) Validate() error {
	var errs []error
	if c.OTLPEndpoint != "" {
		if u, err := url.Parse(c.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, errors.New("--otlp-endpoint/SOC_OTLP_ENDPOINT: must be an http:// or https:// URL (host, port, optional path)"))
		}
	}
	if !(c.SampleRatio >= 0 && c.SampleRatio <= 1) { // also refuses NaN
		errs = append(errs, errors.New("--trace-sample-ratio/SOC_TRACE_SAMPLE_RATIO: must be between 0 and 1"))
	}
	return errors.Join(errs...)
}

// Enabled reports whether spans are exported at all.
func (c *Config) Enabled() bool { return c.OTLPEndpoint != "" }
