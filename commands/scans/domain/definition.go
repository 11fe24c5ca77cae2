package domain

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/robfig/cron/v3"

	"github.com/socplatform/soc/commands/internal/es"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/socplatform/soc/schemas/problem"
)

// Scanners.
const (
	ScannerNmap     = "nmap"
	ScannerExternal = "external"
)

// Bounds of a definition.
const (
	MaxAddresses       = 64
	MaxScripts         = 32
	MaxTimeoutSeconds  = 7 * 24 * 3600
	MaxBackoffSeconds  = 24 * 3600
	MaxAttemptsLimit   = 10
	MaxHostTimeoutSecs = 24 * 3600
	DefaultTimeout     = 3600
)

// ScriptCategories are the nmap script categories a definition may name instead of scripts.
// Intrusive, exploit, dos, brute and malware are deliberately absent: a scheduled scan must not
// attack what it scans.
var ScriptCategories = []string{"default", "safe", "vuln", "discovery", "version"}

// DefinitionStreamID is the stream of definition id (a UUID).
func DefinitionStreamID(id string) string { return "scans-definition-" + id }

// RunStreamID is the stream of run id (a UUID).
func RunStreamID(id string) string { return "scans-run-" + id }

// Target is what a definition scans: a known asset (its IPs and hostnames) and/or addresses
// (the events' shape, so a spec's target is recorded as it is).
type Target = contracts.ScanTarget

// NmapOptions are the structured options of an nmap scan. They are the only input to the
// command line: there is no free-form argument.
type NmapOptions struct {
	Ports              string   `json:"ports,omitempty"`
	Scripts            []string `json:"scripts,omitempty"`
	ServiceDetection   bool     `json:"service_detection,omitempty"`
	Timing             *int     `json:"timing,omitempty"`
	HostTimeoutSeconds int      `json:"host_timeout_seconds,omitempty"`
}

// Spec is a definition's content: the data of ScanDefinitionUpdated, and of
// ScanDefinitionCreated besides the token hash.
type Spec struct {
	Name                string       `json:"name"`
	Scanner             string       `json:"scanner"`
	Target              Target       `json:"target"`
	Options             *NmapOptions `json:"options,omitempty"`
	Schedule            string       `json:"schedule,omitempty"`
	TimeoutSeconds      int          `json:"timeout_seconds"`
	MaxAttempts         int          `json:"max_attempts"`
	RetryBackoffSeconds int          `json:"retry_backoff_seconds"`
	Format              string       `json:"format"`
}

// payload is the spec as ScanDefinitionUpdated records it (and ScanDefinitionCreated, with the
// token hash). Options keep writing only what is set: false and 0 are left out, as before.
func (s Spec) payload() contracts.ScanDefinitionUpdated {
	x := contracts.ScanDefinitionUpdated{Name: s.Name, Scanner: contracts.Scanner(s.Scanner),
		Target:   s.Target,
		Schedule: s.Schedule, TimeoutSeconds: s.TimeoutSeconds, MaxAttempts: s.MaxAttempts,
		RetryBackoffSeconds: s.RetryBackoffSeconds, Format: s.Format}
	if o := s.Options; o != nil {
		x.Options = &contracts.ScanOptions{Ports: o.Ports, Scripts: o.Scripts, Timing: o.Timing}
		if o.ServiceDetection {
			x.Options.ServiceDetection = &o.ServiceDetection
		}
		if o.HostTimeoutSeconds != 0 {
			x.Options.HostTimeoutSeconds = &o.HostTimeoutSeconds
		}
	}
	return x
}

func specOf(x contracts.ScanDefinitionUpdated) Spec {
	s := Spec{Name: x.Name, Scanner: string(x.Scanner), Target: x.Target,
		Schedule: x.Schedule, TimeoutSeconds: x.TimeoutSeconds, MaxAttempts: x.MaxAttempts,
		RetryBackoffSeconds: x.RetryBackoffSeconds, Format: x.Format}
	if o := x.Options; o != nil {
		s.Options = &NmapOptions{Ports: o.Ports, Scripts: o.Scripts, Timing: o.Timing}
		if o.ServiceDetection != nil {
			s.Options.ServiceDetection = *o.ServiceDetection
		}
		if o.HostTimeoutSeconds != nil {
			s.Options.HostTimeoutSeconds = *o.HostTimeoutSeconds
		}
	}
	return s
}

// ValidationError is a definition field that breaks a rule. Path is the field's JSON pointer.
type ValidationError struct {
	Path   string
	Reason string
}

func (e *ValidationError) Error() string      { return e.Path + ": " + e.Reason }
func (e *ValidationError) Kind() problem.Kind { return problem.KindInvalid }
func (e *ValidationError) Field() string      { return e.Path }

func invalid(path, format string, a ...any) *ValidationError {
	return &ValidationError{Path: path, Reason: fmt.Sprintf(format, a...)}
}

// StateError refuses a command the aggregate's state does not allow (cancelling a completed
// run, updating a deleted definition).
type StateError struct {
	What, ID string
	State    string
	Action   string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("%s %s is %s: cannot %s", e.What, e.ID, e.State, e.Action)
}
func (e *StateError) Kind() problem.Kind { return problem.KindConflict }
func (e *StateError) Field() string      { return "/status" }

var (
	nameRe     = regexp.MustCompile(`^\S(.{0,126}\S)?$`)
	formatRe   = regexp.MustCompile(`^[a-z][a-z0-9]{1,31}$`)
	portsRe    = regexp.MustCompile(`^[0-9TU:,\-]+$`)
	scriptRe   = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)
	hostnameRe = regexp.MustCompile(`^(?i)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
	assetIDRe  = regexp.MustCompile(`^assets-asset-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// ParseSchedule parses a 5-field cron expression or a descriptor (@hourly, @every 1m). An
// expression without a CRON_TZ=/TZ= prefix is read in UTC, not in the process's local zone, so
// that every node (and the deterministic sagas) computes the same times.
func ParseSchedule(expr string) (cron.Schedule, error) {
	if !strings.HasPrefix(expr, "CRON_TZ=") && !strings.HasPrefix(expr, "TZ=") {
		expr = "CRON_TZ=UTC " + expr
	}
	return cron.ParseStandard(expr)
}

// ValidatePorts checks an nmap port specification: only digits, T, U, ':', ',', '-', and every
// number within 1..65535.
func ValidatePorts(p string) error {
	if len(p) > 1024 || !portsRe.MatchString(p) {
		return invalid("/options/ports", "must match %s (at most 1024 characters)", portsRe)
	}
	for _, f := range strings.FieldsFunc(p, func(r rune) bool { return r < '0' || r > '9' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 65535 {
			return invalid("/options/ports", "port %s is not within 1..65535", f)
		}
	}
	return nil
}

// ValidScriptName reports whether s is syntactically a script name or category.
func ValidScriptName(s string) bool { return len(s) <= 64 && scriptRe.MatchString(s) }

// IsScriptCategory reports whether s is one of the allowed categories.
func IsScriptCategory(s string) bool {
	for _, c := range ScriptCategories {
		if c == s {
			return true
		}
	}
	return false
}

// ValidateAddress checks one target address: an IP, a CIDR prefix or a hostname.
func ValidateAddress(a string) error {
	if _, err := netip.ParseAddr(a); err == nil {
		return nil
	}
	if strings.Contains(a, "/") {
		if _, err := netip.ParsePrefix(a); err != nil {
			return fmt.Errorf("%q is not a CIDR prefix: %v", a, err)
		}
		return nil
	}
	if len(a) > 253 || !hostnameRe.MatchString(a) {
		return fmt.Errorf("%q is neither an IP address, a CIDR prefix nor a hostname", a)
	}
	return nil
}

// Validate checks a spec and fills its defaults (timeout, attempts, format of nmap).
func (s *Spec) Validate() error {
	if !nameRe.MatchString(s.Name) {
		return invalid("/name", "must be 1-128 characters, not starting or ending with a space")
	}
	switch s.Scanner {
	case ScannerNmap:
		if s.Format == "" {
			s.Format = "nmap"
		}
		if s.Format != "nmap" {
			return invalid("/format", "an nmap definition's format is nmap")
		}
		if s.Options == nil {
			s.Options = &NmapOptions{}
		}
		if err := s.Options.Validate(); err != nil {
			return err
		}
		if s.Target.AssetID == "" && len(s.Target.Addresses) == 0 {
			return invalid("/target", "an nmap definition needs asset_id or addresses")
		}
	case ScannerExternal:
		if s.Options != nil {
			return invalid("/options", "options are for nmap definitions only")
		}
		if !formatRe.MatchString(s.Format) {
			return invalid("/format", "an external definition names the report format its pushes use (trivy, sarif, …)")
		}
	default:
		return invalid("/scanner", "must be nmap or external")
	}
	if s.Target.AssetID != "" && !assetIDRe.MatchString(s.Target.AssetID) {
		return invalid("/target/asset_id", "must be an asset id assets-asset-<uuid>")
	}
	if len(s.Target.Addresses) > MaxAddresses {
		return invalid("/target/addresses", "at most %d addresses", MaxAddresses)
	}
	for i, a := range s.Target.Addresses {
		if err := ValidateAddress(a); err != nil {
			return invalid(fmt.Sprintf("/target/addresses/%d", i), "%v", err)
		}
	}
	if s.Schedule != "" {
		if len(s.Schedule) > 128 {
			return invalid("/schedule", "at most 128 characters")
		}
		if _, err := ParseSchedule(s.Schedule); err != nil {
			return invalid("/schedule", "not a cron expression: %v", err)
		}
	}
	if s.TimeoutSeconds == 0 {
		s.TimeoutSeconds = DefaultTimeout
	}
	if s.TimeoutSeconds < 1 || s.TimeoutSeconds > MaxTimeoutSeconds {
		return invalid("/timeout_seconds", "must be within 1..%d", MaxTimeoutSeconds)
	}
	if s.MaxAttempts == 0 {
		s.MaxAttempts = 1
	}
	if s.MaxAttempts < 1 || s.MaxAttempts > MaxAttemptsLimit {
		return invalid("/max_attempts", "must be within 1..%d", MaxAttemptsLimit)
	}
	if s.RetryBackoffSeconds < 0 || s.RetryBackoffSeconds > MaxBackoffSeconds {
		return invalid("/retry_backoff_seconds", "must be within 0..%d", MaxBackoffSeconds)
	}
	return nil
}

// Validate checks the nmap options' syntax (the runner also checks that scripts exist).
func (o *NmapOptions) Validate() error {
	if o.Ports != "" {
		if err := ValidatePorts(o.Ports); err != nil {
			return err
		}
	}
	if len(o.Scripts) > MaxScripts {
		return invalid("/options/scripts", "at most %d scripts", MaxScripts)
	}
	for i, s := range o.Scripts {
		if !ValidScriptName(s) {
			return invalid(fmt.Sprintf("/options/scripts/%d", i), "must match %s", scriptRe)
		}
	}
	if o.Timing != nil && (*o.Timing < 0 || *o.Timing > 5) {
		return invalid("/options/timing", "must be within 0..5")
	}
	if o.HostTimeoutSeconds < 0 || o.HostTimeoutSeconds > MaxHostTimeoutSecs {
		return invalid("/options/host_timeout_seconds", "must be within 0..%d", MaxHostTimeoutSecs)
	}
	return nil
}

// Definition is the aggregate of a scan definition.
type Definition struct {
	ID          string // the uuid
	Spec        Spec
	TokenSHA256 string
	Deleted     bool
	created     bool
}

var _ es.Aggregate = (*Definition)(nil)

// Exists reports whether the definition was created.
func (d *Definition) Exists() bool { return d.created }

// Apply implements es.Aggregate.
func (d *Definition) Apply(e *events.Envelope) error {
	switch e.Type {
	case contracts.TypeScanDefinitionCreated:
		var x contracts.ScanDefinitionCreated
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		d.ID = strings.TrimPrefix(e.StreamID, "scans-definition-")
		d.Spec = specOf(x.ScanDefinitionUpdated)
		d.TokenSHA256, d.created = x.TokenSHA256, true
	case contracts.TypeScanDefinitionUpdated:
		var x contracts.ScanDefinitionUpdated
		if err := json.Unmarshal(e.Data, &x); err != nil {
			return err
		}
		d.Spec = specOf(x)
	case contracts.TypeScanDefinitionDeleted:
		d.Deleted = true
	}
	return nil
}

// Create decides ScanDefinitionCreated. tokenSHA256 is required for external definitions and
// refused for nmap ones.
func (d *Definition) Create(spec Spec, tokenSHA256 string) ([]es.Change, error) {
	if d.created {
		return nil, &StateError{What: "scan definition", ID: d.ID, State: "created", Action: "create it again"}
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if (spec.Scanner == ScannerExternal) != (tokenSHA256 != "") {
		return nil, invalid("/token_sha256", "external definitions (only) carry a token hash")
	}
	return []es.Change{{Type: contracts.TypeScanDefinitionCreated, Data: contracts.ScanDefinitionCreated{ScanDefinitionUpdated: spec.payload(),
		TokenSHA256: tokenSHA256}}}, nil
}

// Update decides ScanDefinitionUpdated with the full new spec. The scanner cannot change: an
// external definition's token would make no sense on nmap, and the reverse has none.
func (d *Definition) Update(spec Spec) ([]es.Change, error) {
	if err := d.live("update it"); err != nil {
		return nil, err
	}
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if spec.Scanner != d.Spec.Scanner {
		return nil, invalid("/scanner", "the scanner of a definition cannot change (was %s)", d.Spec.Scanner)
	}
	return []es.Change{{Type: contracts.TypeScanDefinitionUpdated, Data: spec.payload()}}, nil
}

// Delete decides ScanDefinitionDeleted.
func (d *Definition) Delete(reason string) ([]es.Change, error) {
	if err := d.live("delete it"); err != nil {
		return nil, err
	}
	return []es.Change{{Type: contracts.TypeScanDefinitionDeleted, Data: contracts.ScanDefinitionDeleted{Reason: reason}}}, nil
}

func (d *Definition) live(action string) error {
	if !d.created {
		return &NotFoundError{What: "scan definition", ID: d.ID}
	}
	if d.Deleted {
		return &StateError{What: "scan definition", ID: d.ID, State: "deleted", Action: action}
	}
	return nil
}

// NotFoundError: no such definition or run.
type NotFoundError struct{ What, ID string }

func (e *NotFoundError) Error() string      { return fmt.Sprintf("no such %s: %s", e.What, e.ID) }
func (e *NotFoundError) Kind() problem.Kind { return problem.KindNotFound }
