// Command soc is the SOC Platform's single binary: `soc serve` runs every part of the platform
// in one process (or a subset with --target), and the other sub-commands are operator tools.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/socplatform/soc/events"
	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run executes the command line args and returns the process's exit status: 0, 1 when the
// command failed, 2 for a command line or configuration it refused, 3 for the states some
// commands report (a parked projection, an unknown saga instance).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	// cobra's own refusals: an unknown command or flag, a wrong number of arguments.
	fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
	return 2
}

func newRootCmd() *cobra.Command {
	root := group(&cobra.Command{
		Use:   "soc",
		Short: "the SOC Platform",
		Long: `soc — the SOC Platform: soc serve runs the platform, the other commands are operator tools.

Every flag has a SOC_* environment variable of the same meaning (flags win).`,
		Version:       version,
		SilenceErrors: true, // run reports errors, with the exit status they carry
		SilenceUsage:  true,
	}, serveCmd(), eventsCmd(), importCmd(), loginCmd(), logoutCmd(), usersCmd(), teamsCmd(), tokenCmd(), feedsCmd(), projectionsCmd(), replayCmd(), sagasCmd(), cvssCmd(), reportsCmd(), analyticsCmd(), searchCmd(),
		&cobra.Command{Use: "version", Short: "print the version", Args: cobra.NoArgs,
			Run: func(cmd *cobra.Command, _ []string) { fmt.Fprintln(cmd.OutOrStdout(), version) }})
	root.SetVersionTemplate("{{.Version}}\n")
	return root
}

// group makes cmd a command that holds sub-commands: alone, it prints its help on stderr and
// exits 2, as any other incomplete command line.
func group(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		cmd.SetOut(cmd.ErrOrStderr())
		_ = cmd.Help()
		return exitCode(2)
	}
	cmd.AddCommand(subs...)
	return cmd
}

// exitCode ends a command with a status once it has said why on stderr.
type exitCode int

func (c exitCode) Error() string { return "exit status " + strconv.Itoa(int(c)) }

// exit is RunE's error for a status: nil for 0.
func exit(code int) error {
	if code == 0 {
		return nil
	}
	return exitCode(code)
}

// fail prints "soc <command>: <message>" on stderr and ends the command with code.
func fail(cmd *cobra.Command, code int, format string, a ...any) error {
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", cmd.CommandPath(), fmt.Sprintf(format, a...))
	return exitCode(code)
}

// checkConfig refuses an invalid configuration with every problem at once, one a line (exit 2).
func checkConfig(cmd *cobra.Command, cfg *Config, serve bool) error {
	if err := cfg.Validate(serve); err != nil {
		return fail(cmd, 2, "invalid configuration:\n%s", indent(err.Error()))
	}
	return nil
}

// toolConfig declares on cmd the flags of an operator tool that opens the store itself: the
// store's and the read side's, with their SOC_* variables.
func toolConfig(cmd *cobra.Command) *Config {
	var cfg Config
	bindFlags(cmd.Flags(), &cfg, false)
	return &cfg
}

// withStore checks an operator tool's configuration, opens the event store and runs f on it.
// The tools read the store directly: SQLite in WAL mode and PostgreSQL both allow it while
// `soc serve` runs.
func withStore(cmd *cobra.Command, cfg *Config, f func(ctx context.Context, store *events.Guarded) error) error {
	if err := checkConfig(cmd, cfg, false); err != nil {
		return err
	}
	store, b, _, err := openStore(cmd.Context(), cfg)
	if err != nil {
		return fail(cmd, 1, "%v", err)
	}
	defer b.Close()
	return f(cmd.Context(), store)
}
