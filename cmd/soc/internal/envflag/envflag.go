// Package envflag gives every command-line flag an environment variable: --smtp-password is
// also SOC_SMTP_PASSWORD. Components register ordinary flags on a standard flag.FlagSet (they
// need no CLI library); Bind derives each variable from the flag's name and adds the flag to the
// sub-command's pflag.FlagSet (cobra), so a setting cannot exist as a variable without also
// being a flag (and therefore in --help), and the names cannot drift apart.
//
// A flag given on the command line wins over its variable; the variable wins over the default.
// A secret (a flag.Value with IsSecret() true) may also come from a file named by <VAR>_FILE,
// the way container orchestrators mount secrets, and its value is never shown in --help or in
// an error.
package envflag

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Prefix starts every derived variable name.
const Prefix = "SOC_"

// secret is implemented by flag values that hold credentials. It is declared here, where it is
// used, so that components in other modules mark their secrets without importing this package.
type secret interface{ IsSecret() bool }

// VarName is the environment variable of flag name: upper case, dashes as underscores, after
// Prefix; overrides maps the flag names whose historical variable differs (--http ↔
// SOC_HTTP_ADDR).
func VarName(name string, overrides map[string]string) string {
	if v, ok := overrides[name]; ok {
		return v
	}
	return Prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// IsSecret reports whether the flag holds a credential.
func IsSecret(f *flag.Flag) bool {
	s, ok := f.Value.(secret)
	return ok && s.IsSecret()
}

// Bind registers on fs the flags that register declares, each with its environment variable
// named in its usage text, and sets from the environment those whose variable is set. It runs
// before fs.Parse, so that the command line then overrides the environment. The defaults shown
// by --help are the built-in ones, never a value from the environment.
//
// Bind returns every environment value it could not use, naming the variable (and, except for
// secrets, the value), so that the caller reports them with its other configuration problems.
// Flags registered on fs directly (a sub-command's own options) get no variable.
func Bind(fs *pflag.FlagSet, register func(*flag.FlagSet), overrides map[string]string) error {
	declared := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	register(declared)
	var errs []error
	declared.VisitAll(func(f *flag.Flag) {
		name := VarName(f.Name, overrides)
		// Converted before the environment is applied: its default is the component's.
		pf := pflag.PFlagFromGoFlag(f)
		pf.Usage = fmt.Sprintf("%s (%s)", f.Usage, name)
		if IsSecret(f) {
			pf.Usage = fmt.Sprintf("%s (%s or %s_FILE)", f.Usage, name, name)
			pf.Value = secretType{f.Value} // whatever its Go type is called, help says what it holds
		}
		fs.AddFlag(pf)
		if err := setFromEnv(f, name); err != nil {
			errs = append(errs, err)
		}
	})
	return errors.Join(errs...)
}

// secretType names a secret's type "secret" in help.
type secretType struct{ flag.Value }

func (secretType) Type() string { return "secret" }

func setFromEnv(f *flag.Flag, name string) error {
	v, ok := os.LookupEnv(name)
	if IsSecret(f) {
		file, hasFile := os.LookupEnv(name + "_FILE")
		switch {
		case hasFile && ok:
			return fmt.Errorf("%s and %s_FILE: set one, not both", name, name)
		case hasFile:
			b, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("%s_FILE: %w", name, err)
			}
			// Secret files are usually written with a trailing newline (echo, editors,
			// Kubernetes secrets from literals); the newline is never part of the secret.
			v, ok = strings.TrimRight(string(b), "\r\n"), true
		}
		if ok {
			if err := f.Value.Set(v); err != nil {
				return fmt.Errorf("%s: not a valid value for --%s", name, f.Name)
			}
		}
		return nil
	}
	if !ok {
		return nil
	}
	if err := f.Value.Set(v); err != nil {
		return fmt.Errorf("%s: %q is not a valid value for --%s", name, v, f.Name)
	}
	return nil
}

// Secret is a string flag value holding a credential: Bind also reads it from <VAR>_FILE, and
// its String is empty, so no default or value of it is ever printed.
func Secret(p *string) flag.Value { return secretValue{p} }

type secretValue struct{ p *string }

func (s secretValue) Set(v string) error { *s.p = v; return nil }
func (s secretValue) String() string     { return "" }
func (s secretValue) IsSecret() bool     { return true }

// List is a comma-separated list flag value. Set replaces the list rather than appending, so
// that a command-line value overrides one from the environment.
func List(p *[]string) flag.Value { return listValue{p} }

type listValue struct{ p *[]string }

func (l listValue) Set(v string) error { *l.p = SplitList(v); return nil }

func (l listValue) String() string {
	if l.p == nil {
		return ""
	}
	return strings.Join(*l.p, ",")
}

// SplitList splits a comma-separated list, dropping blanks around and between items.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Pair is one name=value item of a SplitPairs list.
type Pair struct{ Name, Value string }

// SplitPairs splits a comma-separated list of name=value items (SplitList's blanks dropped,
// spaces around name and value too); an item without "=" or without a name is an error naming
// it. Repeated names are kept: the caller decides whether they mean anything.
func SplitPairs(s string) ([]Pair, error) {
	var out []Pair
	for _, item := range SplitList(s) {
		name, value, ok := strings.Cut(item, "=")
		if name = strings.TrimSpace(name); !ok || name == "" {
			return nil, fmt.Errorf("%q is not name=value", item)
		}
		out = append(out, Pair{name, strings.TrimSpace(value)})
	}
	return out, nil
}
