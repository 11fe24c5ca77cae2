// Package consul connects a node to Consul (github.com/hashicorp/consul/api v1.34.5): it
// registers the node's targets as services with an HTTP check on /readyz (Registrar), follows the
// passing instances of services with blocking queries (Watcher) and follows a node's hot
// configuration in the KV store (KVWatcher).
//
// Names (shared with the gateway and the deployment): service soc-<target>, service ID
// soc-<target>-<node id>, configuration key config/soc/<target>.
package consul

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
)

// ServiceName is the Consul service of a target.
func ServiceName(target string) string { return "soc-" + target }

// ServiceID is the Consul service ID of target on node: unique per node, so instances of one
// target on several nodes are told apart and each deregisters only its own.
func ServiceID(target, nodeID string) string { return ServiceName(target) + "-" + nodeID }

// ConfigKey is the KV key holding target's hot configuration (a JSON object).
func ConfigKey(target string) string { return "config/soc/" + target }

// Config is the node's Consul connection (flags and SOC_* variables through envflag).
type Config struct {
	// Addr is the agent's HTTP API, host:port or an http(s):// URL; empty: no Consul.
	Addr string
	// Token is the ACL token (a secret: SOC_CONSUL_TOKEN or SOC_CONSUL_TOKEN_FILE).
	Token string
	// CheckInterval is how often Consul probes /readyz, also the probe's timeout.
	CheckInterval time.Duration
	// Advertise is the host:port other instances reach this node at; empty: the listener's
	// address, with an unspecified host (0.0.0.0, ::) replaced by 127.0.0.1 — right when every
	// instance runs on one machine, wrong across machines, where it must be set.
	Advertise string
}

// DefaultConfig is no Consul, with a 1 s check once an address is given.
func DefaultConfig() Config { return Config{CheckInterval: time.Second} }

// RegisterFlags binds the configuration to fs (envflag maps each to SOC_<NAME>).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	c.Token = d.Token // a flag.Value, unlike StringVar, does not set its default
	fs.StringVar(&c.Addr, "consul-addr", d.Addr, "Consul agent HTTP address (host:port or http(s)://host:port): register this node's targets, follow hot configuration under config/soc/<target>; empty: no Consul")
	fs.Var(envflag.Secret(&c.Token), "consul-token", "Consul ACL token")
	fs.DurationVar(&c.CheckInterval, "consul-check-interval", d.CheckInterval, "how often Consul checks this node's /readyz (also the check's timeout)")
	fs.StringVar(&c.Advertise, "consul-advertise", d.Advertise, "host:port other instances reach this node at; empty: the --http listener, with 0.0.0.0 or :: replaced by 127.0.0.1 (single machine only)")
}

// Validate reports every invalid setting, each naming its flag. The token is never echoed.
func (c *Config) Validate() error {
	var errs []error
	if c.Addr != "" {
		if _, err := apiConfig(c.Addr); err != nil {
			errs = append(errs, fmt.Errorf("--consul-addr/SOC_CONSUL_ADDR: %w", err))
		}
	}
	if c.CheckInterval < 100*time.Millisecond || c.CheckInterval > 10*time.Minute {
		errs = append(errs, errors.New("--consul-check-interval/SOC_CONSUL_CHECK_INTERVAL: must be between 100ms and 10m"))
	}
	if c.Advertise != "" {
		if host, port, err := net.SplitHostPort(c.Advertise); err != nil || port == "" || port == "0" || isUnspecified(host) {
			errs = append(errs, fmt.Errorf("--consul-advertise/SOC_CONSUL_ADVERTISE: %q is not a reachable host:port", c.Advertise))
		}
	}
	return errors.Join(errs...)
}

// Enabled reports whether the node uses Consul at all.
func (c *Config) Enabled() bool { return c.Addr != "" }

// Client returns a client of the configured agent (call after Validate).
func (c *Config) Client() (*api.Client, error) {
	ac, err := apiConfig(c.Addr)
	if err != nil {
		return nil, fmt.Errorf("consul: --consul-addr: %w", err)
	}
	if c.Token != "" {
		ac.Token = c.Token
	}
	return api.NewClient(ac)
}

// AdvertiseAddr is the host:port this node registers for the listener bound at listen.
func (c *Config) AdvertiseAddr(listen string) (string, error) {
	if c.Advertise != "" {
		return c.Advertise, nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("consul: listener address %q: %w", listen, err)
	}
	if isUnspecified(host) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

func isUnspecified(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

// apiConfig turns --consul-addr into the client's configuration: the scheme of a URL, else plain
// HTTP to host:port.
func apiConfig(addr string) (*api.Config, error) {
	// Pooled: the watchers hold one blocking query per service and key open at all times. The
	// client library's own CONSUL_* variables (TLS files, a token when --consul-token is empty)
	// still apply; the address and scheme are always the flag's.
	ac := api.DefaultConfig()
	ac.Scheme = "http"
	hostport := addr
	if strings.Contains(addr, "://") {
		u, err := url.Parse(addr)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("%q is not host:port or an http(s)://host:port URL", addr)
		}
		ac.Scheme, hostport = u.Scheme, u.Host
	}
	if _, port, err := net.SplitHostPort(hostport); err != nil || port == "" {
		return nil, fmt.Errorf("%q is not host:port or an http(s)://host:port URL", addr)
	}
	ac.Address = hostport
	return ac, nil
}
