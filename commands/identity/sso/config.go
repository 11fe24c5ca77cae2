package sso

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DefaultGroupsClaim is the ID-token claim that carries the user's provider groups.
const DefaultGroupsClaim = "groups"

// Config configures sign-in through an OpenID Connect provider (--oidc-*, SOC_OIDC_*). SSO is
// off unless Issuer is set.
type Config struct {
	Issuer       string // SOC_OIDC_ISSUER: the provider's issuer URL (discovery at <issuer>/.well-known/openid-configuration)
	ClientID     string // SOC_OIDC_CLIENT_ID
	ClientSecret string // SOC_OIDC_CLIENT_SECRET or SOC_OIDC_CLIENT_SECRET_FILE; empty: a public client (PKCE only); never printed
	RedirectURL  string // SOC_OIDC_REDIRECT_URL: this server's GET /v1/auth/oidc/callback, as the provider knows it
	GroupsClaim  string // SOC_OIDC_GROUPS_CLAIM (default "groups")
	Mapping      string // SOC_OIDC_GROUP_MAPPING: a JSON file, or inline JSON, mapping groups to roles and teams
	CustomRoles  []string
}

// RegisterFlags declares the SSO settings (--oidc-*).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Issuer, "oidc-issuer", "", "SSO: issuer URL of the OpenID Connect provider; empty: no SSO")
	fs.StringVar(&c.ClientID, "oidc-client-id", "", "SSO: this platform's client id at the provider")
	fs.Var(secretFlag{&c.ClientSecret}, "oidc-client-secret", "SSO: the client secret; empty: a public client (PKCE only)")
	fs.StringVar(&c.RedirectURL, "oidc-redirect-url", "", "SSO: absolute URL of this server's /v1/auth/oidc/callback, registered at the provider")
	c.GroupsClaim = DefaultGroupsClaim
	fs.StringVar(&c.GroupsClaim, "oidc-groups-claim", DefaultGroupsClaim, "SSO: ID-token claim holding the user's groups")
	fs.StringVar(&c.Mapping, "oidc-group-mapping", "", `SSO: JSON file (or inline JSON) mapping groups to roles and teams, {"/soc-analysts": {"roles": ["analyst"]}, "/team-platform": {"teams": ["platform"]}}`)
	fs.Var(listFlag{&c.CustomRoles}, "oidc-custom-roles", "SSO: comma-separated custom role names the group mapping may grant besides the built-in roles")
}

// Configured reports whether SSO is on.
func (c Config) Configured() bool { return c.Issuer != "" }

// Validate reports every problem at once; the client secret never appears. An unconfigured SSO
// is valid unless some other SSO setting was given (a half-done configuration is a mistake).
func (c Config) Validate() error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	if !c.Configured() {
		if c.ClientID != "" || c.ClientSecret != "" || c.RedirectURL != "" || c.Mapping != "" {
			add("SOC_OIDC_ISSUER: required when any other SOC_OIDC_* setting is given")
		}
		return joinProblems(problems)
	}
	if err := checkURL(c.Issuer); err != nil {
		add("SOC_OIDC_ISSUER: %v", err)
	}
	if c.ClientID == "" {
		add("SOC_OIDC_CLIENT_ID: required")
	}
	if c.RedirectURL == "" {
		add("SOC_OIDC_REDIRECT_URL: required (this server's /v1/auth/oidc/callback)")
	} else if err := checkURL(c.RedirectURL); err != nil {
		add("SOC_OIDC_REDIRECT_URL: %v", err)
	}
	if strings.TrimSpace(c.GroupsClaim) == "" {
		add("SOC_OIDC_GROUPS_CLAIM: must not be empty")
	}
	if c.Mapping == "" {
		add("SOC_OIDC_GROUP_MAPPING: required: without it no sign-in would grant any role")
	} else if _, err := LoadMapping(c.Mapping, c.CustomRoles); err != nil {
		add("SOC_OIDC_GROUP_MAPPING: %v", err)
	}
	return joinProblems(problems)
}

func joinProblems(problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("oidc config: %w", errors.Join(problems...))
}

// checkURL accepts an absolute https URL, or http to a loopback host (a local test provider):
// codes and tokens must never cross a network in clear text.
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("%q: http is allowed only to a loopback host; use https", raw)
	}
	return nil
}

func (c Config) String() string {
	secret := ""
	if c.ClientSecret != "" {
		secret = "[redacted]"
	}
	return fmt.Sprintf("sso.Config{Issuer:%s ClientID:%s ClientSecret:%s RedirectURL:%s GroupsClaim:%s Mapping:%s CustomRoles:%v}",
		c.Issuer, c.ClientID, secret, c.RedirectURL, c.GroupsClaim, c.Mapping, c.CustomRoles)
}

// GoString redacts too, so %#v cannot leak the secret.
func (c Config) GoString() string { return c.String() }

// secretFlag is a string flag holding a credential. Its String is empty, so --help never shows
// a value, and IsSecret tells the command's flag binder that the value may also come from a
// file (SOC_OIDC_CLIENT_SECRET_FILE) and must never be echoed in an error.
type secretFlag struct{ p *string }

func (s secretFlag) Set(v string) error { *s.p = v; return nil }
func (s secretFlag) String() string     { return "" }
func (s secretFlag) IsSecret() bool     { return true }

// listFlag is a comma-separated list; Set replaces the list so a flag overrides the environment.
type listFlag struct{ p *[]string }

func (l listFlag) Set(v string) error {
	*l.p = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l.p = append(*l.p, s)
		}
	}
	return nil
}

func (l listFlag) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}
