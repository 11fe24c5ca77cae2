// Command soc is the SOC Platform's single binary: `soc serve` runs every part of the platform
// in one process (or a subset with --target), and the other sub-commands are operator tools.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `soc — the SOC Platform

Usage:
  soc serve [flags]                      run the platform (see soc serve -h, soc serve --list-targets)
  soc events tail [--from POS] [--follow] print the event log as JSON lines, in global order
  soc events stream STREAM_ID [flags]    print one stream's events as JSON lines
  soc import FILE [--format auto] [--server URL]  upload a scanner report, wait, print the summary
  soc feeds import nvd|kev|epss FILE     import a CVE feed; findings get KEV/EPSS enrichment events
  soc projections status [NAME…] [--json]   read models: generation, position, lag, parked events
  soc projections retry NAME             retry the event a projection is parked on
  soc projections skip NAME --event ID --reason TEXT   skip it (an audited ProjectionEventSkipped)
  soc projections dump [NAME]            print a read model as sorted text (diff a model and a rebuild)
  soc replay --projection NAME|all       rebuild read models beside the live ones, then swap atomically
  soc sagas list [--saga NAME] [--json] saga instances: state, pending timers and commands
  soc sagas show ID | SAGA KEY           one instance as JSON: state, timers, commands, history
  soc cvss VECTOR…                       score CVSS v3.0/v3.1/v4.0 vectors, one JSON object per line
  soc version                            print the version

Every flag has a SOC_* environment variable of the same meaning (flags win).
`

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "events":
		return runEvents(args[1:], stdout, stderr)
	case "import":
		return runImport(args[1:], stdout, stderr)
	case "feeds":
		return runFeeds(args[1:], stdout, stderr)
	case "projections":
		return runProjections(args[1:], stdout, stderr)
	case "replay":
		return runReplay(args[1:], stdout, stderr)
	case "cvss":
		return runCVSS(args[1:], stdout, stderr)
	case "sagas":
		return runSagas(args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "soc: unknown command %q\n\n%s", args[0], usage)
	return 2
}
