package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/spf13/cobra"
)

// usersCmd groups the user administration commands (soc users create|list|disable|…).
func usersCmd() *cobra.Command {
	return group(&cobra.Command{Use: "users", Short: "manage the platform's users"},
		userCreateCmd(), usersListCmd(), userStatusCmd("disable"), userStatusCmd("enable"), userCreateAdminCmd(), usersImportCmd())
}

func userCreateCmd() *cobra.Command {
	var f identityFlags
	var email, name, phone, tz string
	var roles, teams []string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "create a user (over --server, or in --data DIR); prints the one-time password they sign in with",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&email, "email", "", "the user's email (required)")
	cmd.Flags().StringVar(&name, "name", "", "display name")
	cmd.Flags().StringVar(&phone, "phone", "", "phone number, E.164 (for SMS notifications)")
	cmd.Flags().StringVar(&tz, "time-zone", "", "IANA time zone, e.g. Europe/Berlin")
	cmd.Flags().StringSliceVar(&roles, "role", nil, "role to grant (repeatable): admin, analyst, remediator, auditor, scanner or a custom role")
	cmd.Flags().StringSliceVar(&teams, "team", nil, "team to join (repeatable)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if email == "" {
			return fail(cmd, 2, "--email is required")
		}
		return nil
	}
	return identityRequest(cmd, &f, func(cmd *cobra.Command, _ []string, c identityTarget) error {
		body := withoutEmpty(map[string]any{"email": email, "display_name": name, "phone": phone, "time_zone": tz, "roles": roles, "teams": teams})
		return f.create(cmd, c, "/v1/users", body, "id", "email", "one_time_password")
	})
}

func usersListCmd() *cobra.Command {
	var f identityFlags
	cmd := &cobra.Command{Use: "list", Short: "list users (over --server, or in --data DIR)", Args: cobra.NoArgs}
	return identityRequest(cmd, &f, func(cmd *cobra.Command, _ []string, c identityTarget) error {
		var all []map[string]any
		path := "/v1/users?limit=500"
		for path != "" {
			var page struct {
				Items      []map[string]any `json:"items"`
				NextCursor string           `json:"next_cursor"`
			}
			if err := c.Do(cmd.Context(), http.MethodGet, path, nil, http.StatusOK, &page); err != nil {
				return err
			}
			all = append(all, page.Items...)
			path = ""
			if page.NextCursor != "" {
				path = "/v1/users?limit=500&cursor=" + url.QueryEscape(page.NextCursor)
			}
		}
		f.print(cmd.OutOrStdout(), all, all, "id", "email", "display_name", "status", "roles", "teams")
		return nil
	})
}

// userStatusCmd is `soc users disable|enable USER` (an id or an email).
func userStatusCmd(verb string) *cobra.Command {
	var f identityFlags
	cmd := &cobra.Command{Use: verb + " USER", Short: verb + " a user (by id or email; over --server, or in --data DIR)", Args: cobra.ExactArgs(1)}
	return identityRequest(cmd, &f, func(cmd *cobra.Command, args []string, c identityTarget) error {
		id, err := findUser(cmd.Context(), c.Client, args[0])
		if err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), http.MethodPost, "/v1/users/"+url.PathEscape(id)+"/"+verb, map[string]any{}, http.StatusOK, nil); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "user %s %sd\n", id, verb)
		return nil
	})
}

// teamsCmd groups soc teams create|add-member|list.
func teamsCmd() *cobra.Command {
	return group(&cobra.Command{Use: "teams", Short: "manage teams"}, teamCreateCmd(), teamAddMemberCmd(), teamsListCmd())
}

func teamCreateCmd() *cobra.Command {
	var f identityFlags
	var lead string
	cmd := &cobra.Command{Use: "create NAME", Short: "create a team (over --server, or in --data DIR)", Args: cobra.ExactArgs(1)}
	cmd.Flags().StringVar(&lead, "lead", "", "the team lead (id or email; becomes a member)")
	return identityRequest(cmd, &f, func(cmd *cobra.Command, args []string, c identityTarget) error {
		body := map[string]any{"name": args[0]}
		if err := putUser(cmd.Context(), c.Client, body, "lead", lead); err != nil {
			return err
		}
		return f.create(cmd, c, "/v1/teams", body, "id", "name", "lead")
	})
}

func teamAddMemberCmd() *cobra.Command {
	var f identityFlags
	cmd := &cobra.Command{Use: "add-member TEAM USER", Short: "add a user (id or email) to a team (over --server, or in --data DIR)", Args: cobra.ExactArgs(2)}
	return identityRequest(cmd, &f, func(cmd *cobra.Command, args []string, c identityTarget) error {
		id, err := findUser(cmd.Context(), c.Client, args[1])
		if err != nil {
			return err
		}
		if err := c.Do(cmd.Context(), http.MethodPost, "/v1/teams/"+url.PathEscape(args[0])+"/members", map[string]any{"user_id": id}, http.StatusOK, nil); err != nil {
			return err
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%s added to %s\n", args[1], args[0])
		return nil
	})
}

func teamsListCmd() *cobra.Command {
	var f identityFlags
	cmd := &cobra.Command{Use: "list", Short: "list teams (over --server, or in --data DIR)", Args: cobra.NoArgs}
	return identityRequest(cmd, &f, func(cmd *cobra.Command, _ []string, c identityTarget) error {
		var page struct {
			Items []map[string]any `json:"items"`
		}
		if err := c.Do(cmd.Context(), http.MethodGet, "/v1/teams", nil, http.StatusOK, &page); err != nil {
			return err
		}
		f.print(cmd.OutOrStdout(), page.Items, page.Items, "id", "name", "lead", "members")
		return nil
	})
}

// tokenCmd groups soc token create|list|revoke: API tokens for automation.
func tokenCmd() *cobra.Command {
	return group(&cobra.Command{Use: "token", Short: "API tokens for scanners, CI and scripts"}, tokenCreateCmd(), tokenRevokeCmd())
}

func tokenCreateCmd() *cobra.Command {
	var f identityFlags
	var user, name string
	var scopes, teams []string
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create",
		Short: "issue an API token (over --server, or in --data DIR); it is printed once and cannot be shown again",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&user, "user", "", "the token's owner (id or email; default: yourself — another user needs users:admin; required with --data)")
	cmd.Flags().StringVar(&name, "name", "", "a label for the token (default: soc-cli)")
	cmd.Flags().StringSliceVar(&scopes, "scope", nil, "permission the token carries (repeatable, e.g. imports:write); default: the owner's")
	cmd.Flags().StringSliceVar(&teams, "team", nil, "restrict the token to these teams' data (repeatable)")
	cmd.Flags().DurationVar(&ttl, "ttl", 90*24*time.Hour, "lifetime")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if user == "" && f.offline(cmd) {
			// Offline nobody is signed in: there is no "yourself" to own the token.
			return fail(cmd, 2, "--user is required with --data/--postgres-url: name the token's owner")
		}
		if name == "" {
			name = "soc-cli"
		}
		return nil
	}
	return identityRequest(cmd, &f, func(cmd *cobra.Command, _ []string, c identityTarget) error {
		body := withoutEmpty(map[string]any{"name": name, "scopes": scopes, "teams": teams, "ttl": ttl.String()})
		if err := putUser(cmd.Context(), c.Client, body, "user_id", user); err != nil {
			return err
		}
		var out map[string]any
		if err := c.Do(cmd.Context(), http.MethodPost, "/v1/tokens", body, http.StatusCreated, &out); err != nil {
			return err
		}
		if f.output == "json" {
			f.print(cmd.OutOrStdout(), out, nil)
			return nil
		}
		tok, _ := out["token"].(string)
		fmt.Fprintln(cmd.OutOrStdout(), tok)
		fmt.Fprintf(cmd.ErrOrStderr(), "token %v expires %v; it is shown only now (use it as SOC_TOKEN)\n", out["id"], out["expires_at"])
		return nil
	})
}

func tokenRevokeCmd() *cobra.Command {
	var f identityFlags
	cmd := &cobra.Command{Use: "revoke ID", Short: "revoke an API token (over --server, or in --data DIR)", Args: cobra.ExactArgs(1)}
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		if strings.ContainsAny(args[0], "/?#") {
			return fail(cmd, 2, "%q is not a token id", args[0])
		}
		return nil
	}
	return identityRequest(cmd, &f, func(cmd *cobra.Command, args []string, c identityTarget) error {
		return c.Do(cmd.Context(), http.MethodDelete, "/v1/tokens/"+url.PathEscape(args[0]), nil, http.StatusNoContent, nil)
	})
}

// putUser sets body[key] to the id of who (an id or an email) when who is given.
func putUser(ctx context.Context, c *apiclient.Client, body map[string]any, key, who string) error {
	if who == "" {
		return nil
	}
	id, err := findUser(ctx, c, who)
	if err != nil {
		return err
	}
	body[key] = id
	return nil
}

// withoutEmpty drops the members a flag left empty: the identity API reads bodies strictly,
// and an absent member (the server's default) is not an empty string or a null list.
func withoutEmpty(body map[string]any) map[string]any {
	for k, v := range body {
		switch x := v.(type) {
		case string:
			if x == "" {
				delete(body, k)
			}
		case []string:
			if len(x) == 0 {
				delete(body, k)
			}
		}
	}
	return body
}
