// Package runner runs the real nmap for the scan orchestrator. The command line is built only
// from validated, structured options (domain.NmapOptions) and already-allowed target addresses:
// never a shell, never a free-form argument, so a definition cannot smuggle an option (-iL,
// --script-args, -oN /etc/…) into nmap.
//
//	nmap -oX - --noninteractive -sT -Pn -n [-p PORTS] [-sV --version-light] [--script a,b]
//	     [-T<n>] [--host-timeout Ns] -- targets…
//
// -sT (connect scan) needs no raw sockets, so nmap runs unprivileged; -Pn -n skip host discovery
// and reverse DNS, which would otherwise reach beyond the targets.
package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/socplatform/soc/commands/scans/domain"
	"github.com/socplatform/soc/schemas/problem"
)

// Spec is one nmap run: already validated targets and the definition's options.
type Spec struct {
	RunID   string
	Attempt int
	// Targets are IP addresses, CIDR prefixes or hostnames; every one is checked against the
	// allowlist (hostnames are resolved, every resolved address must be allowed, and nmap is
	// given the resolved addresses so DNS cannot change between the check and the scan).
	Targets []string
	Options domain.NmapOptions
	// AssetID is the definition's target asset, if any (the runner does not use it; the
	// orchestrator passes it on to the import).
	AssetID string
}

// Defaults.
const (
	DefaultMaxOutputBytes = 64 << 20
	stderrTail            = 4 << 10
	// Largest prefixes scanned at once: a typo (/8 instead of /24) must not start a scan of
	// millions of addresses.
	minBitsV4 = 16
	minBitsV6 = 112
)

// DefaultAllowedTargets is loopback only: safe by default, a deployment widens it explicitly.
func DefaultAllowedTargets() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// Resolver resolves hostnames (net.DefaultResolver satisfies it).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config of a Runner. Zero fields take the defaults.
type Config struct {
	// Path of the nmap binary (SOC_NMAP_PATH); default "nmap" from PATH.
	Path string
	// DataDir is nmap's data directory, where scripts/<name>.nse are looked up; default: the
	// first of ../share/nmap beside the binary, /usr/share/nmap, /usr/local/share/nmap.
	DataDir string
	// MaxOutputBytes bounds the XML read from stdout (default 64 MiB); beyond it the process is
	// killed and the run is an error.
	MaxOutputBytes int64
	// AllowedTargets (default DefaultAllowedTargets).
	AllowedTargets []netip.Prefix
	Resolver       Resolver
}

// Runner runs nmap.
type Runner struct {
	cfg Config
}

// New returns a Runner.
func New(cfg Config) *Runner {
	if cfg.Path == "" {
		cfg.Path = "nmap"
	}
	if cfg.MaxOutputBytes <= 0 {
		cfg.MaxOutputBytes = DefaultMaxOutputBytes
	}
	if cfg.AllowedTargets == nil {
		cfg.AllowedTargets = DefaultAllowedTargets()
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	return &Runner{cfg: cfg}
}

// ErrNotFound: the nmap binary is missing.
var ErrNotFound = errors.New("nmap not found: install the Debian package nmap or set SOC_NMAP_PATH")

// OptionError is an option the runner refuses (a bad port list, an unknown script).
type OptionError struct {
	Path   string
	Reason string
}

func (e *OptionError) Error() string      { return e.Path + ": " + e.Reason }
func (e *OptionError) Kind() problem.Kind { return problem.KindInvalid }
func (e *OptionError) Field() string      { return e.Path }

// TargetError is a target that is malformed or outside the allowlist.
type TargetError struct {
	Target string
	Reason string
}

func (e *TargetError) Error() string      { return fmt.Sprintf("target %q: %s", e.Target, e.Reason) }
func (e *TargetError) Kind() problem.Kind { return problem.KindRejected }
func (e *TargetError) Field() string      { return "/target/addresses" }

// Permanent reports whether err cannot go away by retrying (a refused target or option).
func Permanent(err error) bool {
	var oe *OptionError
	var te *TargetError
	return errors.As(err, &oe) || errors.As(err, &te)
}

// OutputTooLargeError: nmap wrote more than MaxOutputBytes.
type OutputTooLargeError struct{ Limit int64 }

func (e *OutputTooLargeError) Error() string {
	return fmt.Sprintf("nmap output is over the limit of %d bytes", e.Limit)
}

func (r *Runner) dataDir() string {
	if r.cfg.DataDir != "" {
		return r.cfg.DataDir
	}
	var cands []string
	if p, err := exec.LookPath(r.cfg.Path); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		cands = append(cands, filepath.Join(filepath.Dir(p), "..", "share", "nmap"))
	}
	cands = append(cands, "/usr/share/nmap", "/usr/local/share/nmap")
	for _, c := range cands {
		if st, err := os.Stat(filepath.Join(c, "scripts")); err == nil && st.IsDir() {
			return c
		}
	}
	return ""
}

// ValidateOptions checks the options, including that every script exists in nmap's data
// directory (or is an allowed category).
func (r *Runner) ValidateOptions(o domain.NmapOptions) error {
	if err := o.Validate(); err != nil {
		var ve *domain.ValidationError
		if errors.As(err, &ve) {
			return &OptionError{Path: ve.Path, Reason: ve.Reason}
		}
		return err
	}
	if len(o.Scripts) == 0 {
		return nil
	}
	dir := r.dataDir()
	for i, s := range o.Scripts {
		if domain.IsScriptCategory(s) {
			continue
		}
		path := fmt.Sprintf("/options/scripts/%d", i)
		if dir == "" {
			return &OptionError{Path: path, Reason: "nmap's data directory (scripts) was not found, so script " + s + " cannot be checked"}
		}
		if st, err := os.Stat(filepath.Join(dir, "scripts", s+".nse")); err != nil || !st.Mode().IsRegular() {
			return &OptionError{Path: path, Reason: fmt.Sprintf("no nmap script %q (and not one of the categories %s)", s, strings.Join(domain.ScriptCategories, ", "))}
		}
	}
	return nil
}

// Targets checks targets against the allowlist and returns what nmap is given: addresses and
// prefixes as they are, hostnames replaced by all their resolved addresses.
func (r *Runner) Targets(ctx context.Context, targets []string) ([]string, error) {
	return CheckTargets(ctx, r.cfg.Resolver, targets, r.cfg.AllowedTargets)
}

// CheckTargets is Runner.Targets with its dependencies given.
func CheckTargets(ctx context.Context, res Resolver, targets []string, allowed []netip.Prefix) ([]string, error) {
	if len(targets) == 0 {
		return nil, &TargetError{Reason: "no target"}
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	for _, t := range targets {
		if err := domain.ValidateAddress(t); err != nil {
			return nil, &TargetError{Target: t, Reason: err.Error()}
		}
		if a, err := netip.ParseAddr(t); err == nil {
			if !addrAllowed(a, allowed) {
				return nil, &TargetError{Target: t, Reason: "not within the allowed targets " + prefixes(allowed)}
			}
			add(a.Unmap().String())
			continue
		}
		if p, err := netip.ParsePrefix(t); err == nil {
			p = p.Masked()
			if (p.Addr().Is4() && p.Bits() < minBitsV4) || (p.Addr().Is6() && p.Bits() < minBitsV6) {
				return nil, &TargetError{Target: t, Reason: fmt.Sprintf("prefix too large (at most /%d for IPv4, /%d for IPv6)", minBitsV4, minBitsV6)}
			}
			if !prefixAllowed(p, allowed) {
				return nil, &TargetError{Target: t, Reason: "not within the allowed targets " + prefixes(allowed)}
			}
			add(p.String())
			continue
		}
		addrs, err := res.LookupNetIP(ctx, "ip", t)
		if err != nil {
			return nil, fmt.Errorf("resolving %s: %w", t, err)
		}
		if len(addrs) == 0 {
			return nil, &TargetError{Target: t, Reason: "resolves to no address"}
		}
		for _, a := range addrs {
			if !addrAllowed(a, allowed) {
				return nil, &TargetError{Target: t, Reason: fmt.Sprintf("resolves to %s, not within the allowed targets %s", a, prefixes(allowed))}
			}
		}
		for _, a := range addrs {
			add(a.Unmap().String())
		}
	}
	return out, nil
}

func addrAllowed(a netip.Addr, allowed []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func prefixAllowed(q netip.Prefix, allowed []netip.Prefix) bool {
	for _, p := range allowed {
		if p.Bits() <= q.Bits() && p.Contains(q.Addr()) {
			return true
		}
	}
	return false
}

func prefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

// Argv builds nmap's argument vector (argv[0] is the configured path) from checked targets
// and options. It checks the options again, so a caller cannot skip validation.
func (r *Runner) Argv(targets []string, o domain.NmapOptions) ([]string, error) {
	if err := r.ValidateOptions(o); err != nil {
		return nil, err
	}
	for _, t := range targets {
		// Checked addresses never start with '-'; refuse anything that could read as an option.
		if t == "" || strings.HasPrefix(t, "-") || domain.ValidateAddress(t) != nil {
			return nil, &TargetError{Target: t, Reason: "not a checked address"}
		}
	}
	argv := []string{r.cfg.Path, "-oX", "-", "--noninteractive", "-sT", "-Pn", "-n"}
	if o.Ports != "" {
		argv = append(argv, "-p", o.Ports)
	}
	if o.ServiceDetection {
		argv = append(argv, "-sV", "--version-light")
	}
	if len(o.Scripts) > 0 {
		argv = append(argv, "--script", strings.Join(o.Scripts, ","))
	}
	if o.Timing != nil {
		argv = append(argv, "-T"+strconv.Itoa(*o.Timing))
	}
	if o.HostTimeoutSeconds > 0 {
		argv = append(argv, "--host-timeout", strconv.Itoa(o.HostTimeoutSeconds)+"s")
	}
	argv = append(argv, "--")
	return append(argv, targets...), nil
}

// Prepare checks the spec's targets and options and returns the argv Run would execute.
func (r *Runner) Prepare(ctx context.Context, spec Spec) ([]string, error) {
	targets, err := r.Targets(ctx, spec.Targets)
	if err != nil {
		return nil, err
	}
	return r.Argv(targets, spec.Options)
}

// Run checks the spec, runs nmap and returns its XML report and the argv it ran. Cancelling
// ctx kills nmap and every process it started (its process group).
func (r *Runner) Run(ctx context.Context, spec Spec) ([]byte, []string, error) {
	argv, err := r.Prepare(ctx, spec)
	if err != nil {
		return nil, nil, err
	}
	out, err := r.exec(ctx, argv)
	return out, argv, err
}

func (r *Runner) exec(ctx context.Context, argv []string) ([]byte, error) {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotFound, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, argv[1:]...)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C"}
	setProcessGroup(cmd)
	// WaitDelay bounds Wait when a killed child left a grandchild holding the pipes.
	cmd.WaitDelay = 5 * time.Second
	stdout := &capped{limit: r.cfg.MaxOutputBytes, overflow: cancel}
	stderr := &tail{max: stderrTail}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	runErr := cmd.Run()
	if stdout.over {
		return nil, &OutputTooLargeError{Limit: r.cfg.MaxOutputBytes}
	}
	if runErr != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("nmap stopped: %w", context.Cause(ctx))
		}
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("nmap: %w", runErr)
		}
		return nil, fmt.Errorf("nmap: %w: %s", runErr, msg)
	}
	if stdout.buf.Len() == 0 {
		return nil, fmt.Errorf("nmap wrote no report: %s", strings.TrimSpace(stderr.String()))
	}
	return stdout.buf.Bytes(), nil
}

// capped keeps at most limit bytes; one byte more marks it over and cancels the run.
type capped struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	limit    int64
	over     bool
	overflow func()
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.over {
		return 0, errOverflow
	}
	if int64(c.buf.Len())+int64(len(p)) > c.limit {
		c.over = true
		c.overflow()
		return 0, errOverflow
	}
	return c.buf.Write(p)
}

var errOverflow = errors.New("output over the limit")

// tail keeps the last max bytes written (for error messages).
type tail struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
