package main

import (
	"context"
	"net/http"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/schemas/access"
	"github.com/spf13/cobra"
)

// identityFlags are the flags of an identity command (soc users|teams|token …) that works
// against a running node (--server, with the caller's credential) or, for a first set-up and
// for recovery, directly on the data directory (--data DIR, or the PostgreSQL store with
// --postgres-url), where nobody needs to be signed in and no node needs to run.
type identityFlags struct {
	clientFlags
	store *Config
	// as names the system principal an offline run acts as (default cli: events carry
	// system:cli, so the log tells what was done on the data directory from what a user did).
	as string
}

func (f *identityFlags) register(cmd *cobra.Command) {
	f.clientFlags.register(cmd)
	f.store = toolConfig(cmd)
}

// identityTarget is what an identity command talks to. Both modes go through the identity
// routes, so a command sends and prints the same things whichever it runs in.
type identityTarget struct {
	*apiclient.Client
	// asUser, set only on the data directory, is a client acting as the user id: what is a
	// user's own to set (their preferences). Over --server only the user themself can.
	asUser func(id string) (*apiclient.Client, error)
}

// offline reports whether the command was told to work on the store itself. Only the command
// line decides: SOC_DATA_DIR, set for a node, must not turn an operator's commands offline.
func (f *identityFlags) offline(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("data") || cmd.Flags().Changed("postgres-url")
}

// run calls fn with the node's client or, offline, with a client of the identity context
// opened on the store, acting as the system principal f.as.
func (f *identityFlags) run(cmd *cobra.Command, fn func(t identityTarget) error) error {
	if !f.offline(cmd) {
		c, err := f.client(cmd)
		if err != nil {
			return err
		}
		return fn(identityTarget{Client: c})
	}
	if cmd.Flags().Changed("server") {
		return fail(cmd, 2, "--server and --data/--postgres-url exclude each other: the command either asks a node or works on the store itself")
	}
	if err := f.checkOutput(cmd); err != nil {
		return err
	}
	return withStore(cmd, f.store, func(ctx context.Context, store *events.Guarded) error {
		svc, err := openIdentity(ctx, store)
		if err != nil {
			return fail(cmd, 1, "%v", err)
		}
		// One set of identity routes serves the command, as the admin and as each user.
		mux, err := identityMux(svc)
		if err != nil {
			return fail(cmd, 1, "%v", err)
		}
		c, err := clientAs(mux, offlineAdmin(f.as))
		if err != nil {
			return fail(cmd, 1, "%v", err)
		}
		asUser := func(id string) (*apiclient.Client, error) {
			return clientAs(mux, access.Principal{Kind: access.KindUser, ID: id, UserID: id})
		}
		return fn(identityTarget{Client: c, asUser: asUser})
	})
}

// offlineAdmin is who a command on the data directory acts as: the platform itself (events
// carry system:<name>, default system:cli), allowed to administer users and nothing else.
// Whoever can write the data directory owns the platform anyway; the actor says it was not a
// user signed in to a node.
func offlineAdmin(name string) access.Principal {
	if name == "" {
		name = "cli"
	}
	p := access.System(name)
	p.Perms = []access.Permission{access.UsersRead, access.UsersAdmin}
	return p
}

// identityRequest makes cmd a command that sends its requests through do to what its flags
// name: a node (--server) or the store itself (--data/--postgres-url). What do returns is a
// request's error, reported with the exit status it calls for; checks of the command line
// itself belong in cmd.PreRunE, so that they refuse before anything is opened.
func identityRequest(cmd *cobra.Command, f *identityFlags, do func(cmd *cobra.Command, args []string, c identityTarget) error) *cobra.Command {
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return f.run(cmd, func(c identityTarget) error {
			if err := do(cmd, args, c); err != nil {
				return apiFail(cmd, err)
			}
			return nil
		})
	}
	return cmd
}

// create posts body to path (a 201) and prints what was created: JSON, or a table of cols.
func (f *identityFlags) create(cmd *cobra.Command, c identityTarget, path string, body map[string]any, cols ...string) error {
	var out map[string]any
	if err := c.Do(cmd.Context(), http.MethodPost, path, body, http.StatusCreated, &out); err != nil {
		return err
	}
	f.print(cmd.OutOrStdout(), out, []map[string]any{out}, cols...)
	return nil
}
