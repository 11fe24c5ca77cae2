package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	searchapi "github.com/socplatform/soc/query-api/search"
	"github.com/spf13/cobra"
)

// searchCmd is `soc search QUERY`: one page of GET /v1/search from a running node, as a table
// (kind, id, title, severity or status, asset) with the facets' counts below, or as JSON.
func searchCmd() *cobra.Command {
	var f clientFlags
	var asJSON, noFacets bool
	var types, facets []string
	var sort, cursor string
	var limit int
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "search assets, findings, CVEs (and the audit trail with audit:read): free text, \"phrases\", cve:, severity:, asset:, ip:, package:, …",
		Long: "Searches the search index of a running node (GET /v1/search). QUERY is the search language: free text, " +
			"\"quoted phrases\" and field operators such as cve:CVE-2021-44228, severity:critical,high, status:open, asset:web-1, " +
			"host:web-1.example.com, ip:10.0.0.0/8, package:log4j-core, kev:true, team:platform, cvss:>=9; a leading - negates a clause.",
		Args: cobra.MaximumNArgs(1),
	}
	f.register(cmd)
	fl := cmd.Flags()
	fl.BoolVar(&asJSON, "json", false, "print the answer as JSON (as -o json)")
	fl.StringSliceVar(&types, "types", nil, "document kinds: finding, asset, cve, event (default: all the caller may read but events)")
	fl.StringSliceVar(&facets, "facets", nil, "facets to count (default: "+strings.Join(searchapi.DefaultFacets, ",")+")")
	fl.BoolVar(&noFacets, "no-facets", false, "print no facet counts")
	fl.StringVar(&sort, "sort", "", "relevance, at, severity, cvss, epss or title; - for descending (-cvss)")
	fl.IntVar(&limit, "limit", 0, "hits per page (default 20)")
	fl.StringVar(&cursor, "cursor", "", "next_cursor of the previous page")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := f.clientAs(cmd, asJSON)
		if err != nil {
			return err
		}
		q := url.Values{}
		if len(args) == 1 {
			q.Set("q", args[0])
		}
		for name, vs := range map[string][]string{"types": types, "facets": facets} {
			if len(vs) > 0 {
				q.Set(name, strings.Join(vs, ","))
			}
		}
		if sort != "" {
			q.Set("sort", sort)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if limit != 0 {
			q.Set("limit", fmt.Sprint(limit))
		}
		if f.output != "json" {
			q.Set("highlight", "false") // a terminal shows no <mark>
		}
		var ans map[string]any
		if err := c.Do(cmd.Context(), http.MethodGet, "/v1/search?"+q.Encode(), nil, http.StatusOK, &ans); err != nil {
			return apiFail(cmd, err)
		}
		w := cmd.OutOrStdout()
		if f.output == "json" {
			f.print(w, ans, nil)
			return nil
		}
		printSearch(w, &f, ans, !noFacets)
		return nil
	}
	return cmd
}

// clientAs is client for a command with a --json flag (the same as -o json).
func (f *clientFlags) clientAs(cmd *cobra.Command, asJSON bool) (*apiclient.Client, error) {
	if asJSON {
		f.output = "json"
	}
	return f.client(cmd)
}

// printSearch prints an answer: its hits as a table, then the total, the next page's cursor and
// the facets' counts.
func printSearch(w io.Writer, f *clientFlags, ans map[string]any, facets bool) {
	hits, _ := ans["hits"].([]any)
	rows := make([]map[string]any, 0, len(hits))
	for _, h := range hits {
		hit, _ := h.(map[string]any)
		state := hit["severity"]
		if s, ok := hit["status"]; ok {
			if state != nil {
				state = fmt.Sprintf("%v/%v", state, s)
			} else {
				state = s
			}
		}
		rows = append(rows, map[string]any{"kind": hit["kind"], "id": hit["id"], "title": hit["title"], "state": state, "asset": hit["asset_name"]})
	}
	f.print(w, nil, rows, "kind", "id", "title", "state", "asset")
	fmt.Fprintf(w, "\n%v of %v (query: %v)\n", len(hits), cell(ans["total"]), ans["query"])
	if next, ok := ans["next_cursor"].(string); ok && next != "" {
		fmt.Fprintf(w, "more: --cursor %s\n", next)
	}
	fm, _ := ans["facets"].(map[string]any)
	if !facets || len(fm) == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, name := range searchapi.DefaultFacets {
		values, _ := fm[name].([]any)
		if len(values) == 0 {
			continue
		}
		parts := make([]string, 0, len(values))
		for _, v := range values {
			fv, _ := v.(map[string]any)
			parts = append(parts, fmt.Sprintf("%v=%v", fv["value"], cell(fv["count"])))
		}
		fmt.Fprintf(w, "%-12s %s\n", name, strings.Join(parts, " "))
	}
}
