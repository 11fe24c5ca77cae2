package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/socplatform/soc/commands/vulns/catalogue"
)

// runFeeds imports a CVE feed (NVD, KEV, EPSS) straight into the event store, like `soc events`
// reads it: the store allows this while `soc serve` runs, and a running node's importer picks the
// new catalogue state up when it next enriches findings.
func runFeeds(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("feeds", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	bindFlags(fs, &cfg, false)
	// Store flags may come first or last: soc feeds [--data D] import kev FILE.
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rest := fs.Args()
	if len(rest) == 0 {
		fmt.Fprintln(stderr, "usage: soc feeds import nvd|kev|epss FILE")
		return 2
	}
	if err := cfg.Validate(false); err != nil {
		fmt.Fprintf(stderr, "soc feeds: invalid configuration:\n%s\n", indent(err.Error()))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	store, b, _, err := openStore(ctx, &cfg)
	if err != nil {
		fmt.Fprintf(stderr, "soc feeds: %v\n", err)
		return 1
	}
	defer b.Close()
	return catalogue.RunCLI(ctx, rest, stdout, stderr, store)
}
