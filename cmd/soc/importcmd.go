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
	"time"

	"github.com/socplatform/soc/cmd/soc/internal/envflag"
	"github.com/spf13/cobra"
)

// importCmd uploads a report to a running node, waits for the import, and prints its summary as
// one JSON object. A progress bar goes to stderr when stderr is a terminal. It exits 0 only when
// the import completed and its summary accounts for every parsed finding (parsed = stored +
// duplicates + ignored); 1 when the import failed or the summary does not add up, 2 when the
// request was refused (an unknown --asset, a bad option).
func importCmd() *cobra.Command {
	var format, server, asset string
	var closeMissing bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "upload a scanner report, wait, print the summary",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&format, "format", "auto", "report format: auto, nmap, trivy, grype, sarif, nessus, openvas, zap, cyclonedx")
	envErr := envflag.Bind(cmd.Flags(), func(fs *flag.FlagSet) {
		fs.StringVar(&server, "server", "http://localhost:8080", "URL of a soc node")
	}, nil)
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "give up waiting after this long")
	cmd.Flags().StringVar(&asset, "asset", "", "known asset (id or exact name) the findings belong to when the report does not identify its asset")
	cmd.Flags().BoolVar(&closeMissing, "close-missing", false, "resolve the scope's findings the report does not list even when they are more than the server's --reimport-max-close-share, or the report lists none")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if envErr != nil {
			return fail(cmd, 2, "%v", envErr)
		}
		opts := importOptions{format: format, asset: asset, closeMissing: closeMissing}
		return exit(runImport(cmd.Context(), args[0], opts, server, timeout, cmd.OutOrStdout(), cmd.ErrOrStderr()))
	}
	return cmd
}

// importOptions are the import request's query parameters.
type importOptions struct {
	format       string
	asset        string
	closeMissing bool
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

// runImport uploads path to server and waits for the import; it returns the exit status.
func runImport(ctx context.Context, path string, opts importOptions, server string, timeout time.Duration, stdout, stderr io.Writer) int {
	base, err := url.Parse(strings.TrimRight(server, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		fmt.Fprintf(stderr, "soc import: --server %q is not an http(s) URL\n", server)
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

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.String()+"/v1/scans/imports?"+opts.query(), f)
	if err != nil {
		fmt.Fprintf(stderr, "soc import: %v\n", err)
		return 1
	}
	req.ContentLength = st.Size()
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "soc import: uploading to %s: %v\n", base.Host, err)
		return 1
	}
	var accepted struct {
		ScanID string `json:"scan_id"`
	}
	if code := decodeOrProblem(resp, http.StatusAccepted, &accepted, stderr); code != 0 {
		return code
	}
	bar := importBar(stderr)
	for {
		job, code := importStatus(ctx, base.String(), accepted.ScanID, stderr)
		if code != 0 {
			return code
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
		select {
		case <-ctx.Done():
			fmt.Fprintf(stderr, "soc import: stopped waiting for scan %s: %v (the import goes on on the server)\n", accepted.ScanID, ctx.Err())
			return 1
		case <-time.After(200 * time.Millisecond):
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

func importStatus(ctx context.Context, base, scanID string, stderr io.Writer) (importJob, int) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/scans/"+scanID+"/import", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "soc import: %v\n", err)
		return importJob{}, 1
	}
	var job importJob
	return job, decodeOrProblem(resp, http.StatusOK, &job, stderr)
}

// decodeOrProblem decodes a successful answer into v, or prints the server's problem document.
func decodeOrProblem(resp *http.Response, want int, v any, stderr io.Writer) int {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		fmt.Fprintf(stderr, "soc import: reading the answer: %v\n", err)
		return 1
	}
	if resp.StatusCode != want {
		var p struct{ Title, Detail, Field string }
		_ = json.Unmarshal(body, &p)
		msg := strings.TrimSpace(p.Title + ": " + p.Detail)
		if p.Title == "" {
			msg = strings.TrimSpace(string(body))
		}
		if p.Field != "" {
			msg += " (" + p.Field + ")"
		}
		fmt.Fprintf(stderr, "soc import: server answered %d: %s\n", resp.StatusCode, msg)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			return 2
		}
		return 1
	}
	if err := json.Unmarshal(body, v); err != nil {
		fmt.Fprintf(stderr, "soc import: the server's answer is not JSON: %v\n", err)
		return 1
	}
	return 0
}
