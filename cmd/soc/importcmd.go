package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/cmd/soc/internal/envflag"
	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/importers/mapped"
	"github.com/spf13/cobra"
)

// importCmd uploads a report to a running node, waits for the import, and prints its summary as
// one JSON object. With --list-formats it lists the formats this binary's parsers read instead,
// offline (a table, or --json for what GET /v1/scans/formats answers). With --mapping FILE the
// report is read through a custom mapping (format "mapped"): the mapping is checked here first
// (exit 2 naming the bad key), then sent at the head of the upload, so that the spooled upload
// holds everything its import needs. A progress bar goes to stderr when stderr is a terminal. It exits 0 only when
// the import completed and its summary accounts for every parsed finding (parsed = stored +
// duplicates + ignored); 1 when the import failed or the summary does not add up, 2 when the
// request was refused (an unknown --asset, a bad option).
func importCmd() *cobra.Command {
	var format, server, asset, mappingFile string
	var closeMissing, listFormats, jsonOut bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "import FILE | --list-formats",
		Short: "upload a scanner report, wait, print the summary",
		Args:  cobra.MaximumNArgs(1),
	}
	cmd.Flags().StringVar(&format, "format", "auto", "report format: auto or a name --list-formats shows")
	cmd.Flags().BoolVar(&listFormats, "list-formats", false, "list the report formats this binary reads (offline) and exit")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "with --list-formats: print JSON, as GET /v1/scans/formats answers")
	cmd.Flags().StringVar(&mappingFile, "mapping", "", "read a CSV or JSON report without a parser through this custom mapping file (format mapped)")
	envErr := envflag.Bind(cmd.Flags(), func(fs *flag.FlagSet) {
		fs.StringVar(&server, "server", "http://localhost:8080", "URL of a soc node")
	}, nil)
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up waiting after this long")
	cmd.Flags().StringVar(&asset, "asset", "", "known asset (id or exact name) the findings belong to when the report does not identify its asset")
	cmd.Flags().BoolVar(&closeMissing, "close-missing", false, "resolve the scope's findings the report does not list even when they are more than the server's --reimport-max-close-share, or the report lists none")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if listFormats {
			if len(args) > 0 {
				return fail(cmd, 2, "--list-formats takes no file")
			}
			return printFormats(cmd.OutOrStdout(), jsonOut)
		}
		if len(args) != 1 {
			return fail(cmd, 2, "give the report file (or --list-formats)")
		}
		if envErr != nil {
			return fail(cmd, 2, "%v", envErr)
		}
		opts := importOptions{format: format, asset: asset, closeMissing: closeMissing}
		if mappingFile != "" {
			m, err := readMapping(mappingFile, format)
			if err != nil {
				return fail(cmd, 2, "%v", err)
			}
			opts.format, opts.mapping = mapped.Format, m
		}
		return exit(runImport(cmd.Context(), args[0], opts, server, timeout, cmd.OutOrStdout(), cmd.ErrOrStderr()))
	}
	return cmd
}

// importOptions are the import request's query parameters, and the mapping sent at the head of
// the upload (nil without --mapping).
type importOptions struct {
	format       string
	asset        string
	closeMissing bool
	mapping      []byte
}

// readMapping reads and checks a mapping file; format must be auto or mapped.
func readMapping(path, format string) ([]byte, error) {
	if format != "auto" && format != mapped.Format {
		return nil, fmt.Errorf("--mapping reads the report as format %s, not %s", mapped.Format, format)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, mapped.MaxMappingBytes+1))
	if err != nil {
		return nil, err
	}
	if _, err := mapped.Load(b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// printFormats lists the compiled-in formats: a table, or the JSON of GET /v1/scans/formats.
func printFormats(w io.Writer, asJSON bool) error {
	formats := scanapp.Formats()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"formats": formats})
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FORMAT\tFAMILY\tVERSIONS\tSCANNER / REPORT")
	for _, f := range formats {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Family, strings.Join(f.Versions, "; "), f.Title)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\n--json adds each format's detection rule, fingerprint fields and severity mapping.")
	return err
}

func (o importOptions) query() string {
	q := url.Values{"format": {o.format}}
	if o.asset != "" {
		q.Set("asset", o.asset)
	}
	if o.closeMissing {
		q.Set("close_missing", "true")
	}
	return q.Encode()
}

// runImport uploads path to server and waits for the import; it returns the exit status. The
// caller's credential is SOC_TOKEN or the session `soc login` stored.
func runImport(ctx context.Context, path string, opts importOptions, server string, timeout time.Duration, stdout, stderr io.Writer) int {
	store, err := apiclient.DefaultStore()
	if err != nil {
		fmt.Fprintf(stderr, "soc import: %v\n", err)
		return 1
	}
	c, err := apiclient.Authenticated(ctx, server, store, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "soc import: %v\n", err)
		return 2
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintf(stderr, "soc import: %v\n", err)
		return 1
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.IsDir() {
		fmt.Fprintf(stderr, "soc import: %s is not a file\n", path)
		return 1
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	// The body is the file itself (its length known), streamed, never read into memory; a
	// mapping goes first.
	var body io.Reader = io.NewSectionReader(f, 0, st.Size())
	if opts.mapping != nil {
		body = mapped.UploadBody(opts.mapping, body)
	}
	resp, err := c.Request(ctx, http.MethodPost, "/v1/scans/imports?"+opts.query(), body, "application/octet-stream")
	if err != nil {
		fmt.Fprintf(stderr, "soc import: uploading to %s: %v\n", c.Server(), err)
		return 1
	}
	var accepted struct {
		ScanID string `json:"scan_id"`
	}
	if err := apiclient.Decode(resp, http.StatusAccepted, &accepted); err != nil {
		fmt.Fprintf(stderr, "soc import: %v\n", err)
		return apiclient.ExitCode(err)
	}
	bar := importBar(stderr)
	var poll apiclient.Poll
	for {
		var job importJob
		if err := c.Do(ctx, http.MethodGet, "/v1/scans/"+url.PathEscape(accepted.ScanID)+"/import", nil, http.StatusOK, &job); err != nil {
			fmt.Fprintf(stderr, "soc import: %v\n", err)
			return apiclient.ExitCode(err)
		}
		bar(job.Done, job.Total)
		switch job.State {
		case "completed":
			bar(-1, -1)
			enc := json.NewEncoder(stdout)
			if err := enc.Encode(job.Summary); err != nil {
				return 1
			}
			return checkCounts(job.Summary, accepted.ScanID, stderr)
		case "failed":
			bar(-1, -1)
			fmt.Fprintf(stderr, "soc import: scan %s failed: %s\n", accepted.ScanID, job.Error)
			return 1
		}
		if err := poll.Wait(ctx); err != nil {
			fmt.Fprintf(stderr, "soc import: stopped waiting for scan %s: %v (the import goes on on the server)\n", accepted.ScanID, err)
			return 1
		}
	}
}

// checkCounts returns 0 when the summary accounts for every parsed finding, else says what is
// missing and returns 1: a finding parsed and then neither stored, nor a listed duplicate, nor
// ignored by kind was lost, and a script must not take the import for a success.
func checkCounts(raw json.RawMessage, scanID string, stderr io.Writer) int {
	var s struct {
		Parsed         *int `json:"parsed"`
		Stored         int  `json:"stored"`
		DuplicateCount int  `json:"duplicate_count"`
		Ignored        int  `json:"ignored"`
	}
	if err := json.Unmarshal(raw, &s); err != nil || s.Parsed == nil {
		fmt.Fprintf(stderr, "soc import: scan %s: the summary does not say how many findings were parsed and stored\n", scanID)
		return 1
	}
	if *s.Parsed != s.Stored+s.DuplicateCount+s.Ignored {
		fmt.Fprintf(stderr, "soc import: scan %s: %d findings parsed, but %d stored + %d duplicates + %d ignored: %d lost\n",
			scanID, *s.Parsed, s.Stored, s.DuplicateCount, s.Ignored, *s.Parsed-s.Stored-s.DuplicateCount-s.Ignored)
		return 1
	}
	return 0
}

type importJob struct {
	State   string          `json:"state"`
	Done    int             `json:"findings_done"`
	Total   int             `json:"findings_total"`
	Summary json.RawMessage `json:"summary"`
	Error   string          `json:"error"`
}
