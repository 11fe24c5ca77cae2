package main

import (
	"context"

	"github.com/socplatform/soc/commands/vulns/catalogue"
	"github.com/socplatform/soc/events"
	"github.com/spf13/cobra"
)

// feedsCmd imports a CVE feed (NVD, KEV, EPSS) straight into the event store, like `soc events`
// reads it: the store allows this while `soc serve` runs, and a running node's importer picks the
// new catalogue state up when it next enriches findings.
func feedsCmd() *cobra.Command {
	feeds := &cobra.Command{Use: "feeds", Short: "import CVE feeds (NVD, KEV, EPSS)"}
	var cfg Config
	// The store's flags belong to feeds itself, so that they may come first or last:
	// soc feeds [--data D] import kev FILE.
	bindFlags(feeds.PersistentFlags(), &cfg, false)
	return group(feeds, &cobra.Command{
		Use:       "import nvd|kev|epss FILE",
		Short:     "import a CVE feed; findings get KEV/EPSS enrichment events",
		Args:      cobra.ExactArgs(2),
		ValidArgs: []string{"nvd", "kev", "epss"},
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, &cfg, func(ctx context.Context, store *events.Guarded) error {
				return exit(catalogue.RunCLI(ctx, append([]string{"import"}, args...), cmd.OutOrStdout(), cmd.ErrOrStderr(), store))
			})
		},
	})
}
