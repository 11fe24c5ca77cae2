package app

import (
	"errors"
	"flag"
	"time"
)

// Config of the identity context: lockout, session lifetimes and the first admin.
type Config struct {
	// LockoutThreshold failures (per account and per source address) lock further attempts:
	// for LockoutBase, doubling with each further failure up to LockoutMax. Failures are
	// forgotten LockoutWindow after the last one.
	LockoutThreshold int
	LockoutBase      time.Duration
	LockoutMax       time.Duration
	LockoutWindow    time.Duration
	// AccessTTL is the access tokens' lifetime; the keyring issues them (tokens.KeyConfig), the
	// login answer's expires_in comes from what it issued.
	AccessTTL time.Duration
	// RefreshTTL is a session's absolute lifetime: refreshing does not extend it.
	RefreshTTL time.Duration
	// InvitationTTL is an invitation's lifetime unless it names its own.
	InvitationTTL time.Duration
	// MaxTokenTTL bounds an API token's lifetime.
	MaxTokenTTL time.Duration
	// LastUsedFlush is how often API tokens' last-used times reach the read model.
	LastUsedFlush time.Duration
	// BootstrapAdminEmail and BootstrapAdminPasswordFile create the first admin on a first
	// start (no user yet); nothing is open and there is no default password otherwise.
	BootstrapAdminEmail        string
	BootstrapAdminPasswordFile string
}

// DefaultConfig is Config with its defaults.
func DefaultConfig() Config {
	return Config{LockoutThreshold: 5, LockoutBase: time.Second, LockoutMax: 15 * time.Minute, LockoutWindow: time.Hour,
		AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour, InvitationTTL: 7 * 24 * time.Hour,
		MaxTokenTTL: 365 * 24 * time.Hour, LastUsedFlush: time.Minute}
}

// RegisterFlags binds the configuration to fs (envflag maps each to SOC_<NAME>).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.IntVar(&c.LockoutThreshold, "lockout-threshold", d.LockoutThreshold, "failed logins (per account and per address) before attempts are locked")
	fs.DurationVar(&c.LockoutBase, "lockout-base", d.LockoutBase, "first lockout; doubles with each further failure")
	fs.DurationVar(&c.LockoutMax, "lockout-max", d.LockoutMax, "longest lockout")
	fs.DurationVar(&c.LockoutWindow, "lockout-window", d.LockoutWindow, "failures are forgotten this long after the last one")
	fs.DurationVar(&c.AccessTTL, "access-ttl", d.AccessTTL, "lifetime of access tokens (JWT)")
	fs.DurationVar(&c.RefreshTTL, "refresh-ttl", d.RefreshTTL, "absolute lifetime of a session (its refresh tokens)")
	fs.DurationVar(&c.InvitationTTL, "invitation-ttl", d.InvitationTTL, "default lifetime of an invitation")
	fs.DurationVar(&c.MaxTokenTTL, "max-token-ttl", d.MaxTokenTTL, "longest lifetime of an API token")
	fs.DurationVar(&c.LastUsedFlush, "token-last-used-flush", d.LastUsedFlush, "how often API tokens' last-used times reach the read model")
	fs.StringVar(&c.BootstrapAdminEmail, "bootstrap-admin-email", "", "on a first start (no user yet), create this admin")
	fs.StringVar(&c.BootstrapAdminPasswordFile, "bootstrap-admin-password-file", "", "file holding the bootstrap admin's password")
}

// Validate reports every invalid setting, each naming its flag.
func (c *Config) Validate() error {
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	check(c.LockoutThreshold >= 1 && c.LockoutThreshold <= 100, "--lockout-threshold/SOC_LOCKOUT_THRESHOLD: must be between 1 and 100")
	check(c.LockoutBase > 0, "--lockout-base/SOC_LOCKOUT_BASE: must be positive")
	check(c.LockoutMax >= c.LockoutBase, "--lockout-max/SOC_LOCKOUT_MAX: must be at least --lockout-base")
	check(c.LockoutWindow >= c.LockoutMax, "--lockout-window/SOC_LOCKOUT_WINDOW: must be at least --lockout-max")
	check(c.AccessTTL >= time.Minute && c.AccessTTL <= 24*time.Hour, "--access-ttl/SOC_ACCESS_TTL: must be between 1m and 24h")
	check(c.RefreshTTL >= c.AccessTTL && c.RefreshTTL <= 365*24*time.Hour, "--refresh-ttl/SOC_REFRESH_TTL: must be between --access-ttl and 365 days")
	check(c.InvitationTTL >= time.Minute && c.InvitationTTL <= 90*24*time.Hour, "--invitation-ttl/SOC_INVITATION_TTL: must be between 1m and 90 days")
	check(c.MaxTokenTTL >= time.Hour && c.MaxTokenTTL <= 5*365*24*time.Hour, "--max-token-ttl/SOC_MAX_TOKEN_TTL: must be between 1h and 5 years")
	check(c.LastUsedFlush >= time.Second, "--token-last-used-flush/SOC_TOKEN_LAST_USED_FLUSH: must be at least 1s")
	check((c.BootstrapAdminEmail == "") == (c.BootstrapAdminPasswordFile == ""),
		"--bootstrap-admin-email and --bootstrap-admin-password-file: set both or neither")
	return errors.Join(errs...)
}
