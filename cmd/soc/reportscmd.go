package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/socplatform/soc/cmd/soc/internal/apiclient"
	"github.com/socplatform/soc/query-api/reporting"
	"github.com/socplatform/soc/schemas/contracts"
	"github.com/spf13/cobra"
)

// reportsCmd groups the report commands: jobs (generate, list, download), templates and
// schedules.
func reportsCmd() *cobra.Command {
	return group(&cobra.Command{Use: "reports", Short: "generate, list and download reports; list, show and copy report templates; schedule reports"},
		reportsGenerateCmd(), reportsListCmd(), reportsDownloadCmd(),
		group(&cobra.Command{Use: "templates", Short: "list, show and copy report templates"},
			templatesListCmd(), templatesShowCmd(), templatesCopyCmd()),
		schedulesCmd())
}

// fileFlags are the flags of the commands that save a report: --server, -o FILE (rather than
// the other commands' -o table|json), --timeout.
type fileFlags struct {
	clientFlags
	out     string
	timeout time.Duration
}

func (f *fileFlags) register(cmd *cobra.Command) {
	f.registerServer(cmd)
	f.output = "json" // what they print: the report, as JSON
	cmd.Flags().StringVarP(&f.out, "out", "o", "", "save the document to FILE (default: the name the server gives, in the current directory)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Minute, "give up waiting after this long")
}

// filterKeys maps --filter keys to the report filter's fields.
var filterKeys = map[string]func(*contracts.ReportFilter) *[]string{
	"tag":         func(f *contracts.ReportFilter) *[]string { return &f.Tags },
	"team":        func(f *contracts.ReportFilter) *[]string { return &f.Teams },
	"environment": func(f *contracts.ReportFilter) *[]string { return &f.Environments },
	"asset-kind":  func(f *contracts.ReportFilter) *[]string { return &f.AssetKinds },
	"scanner":     func(f *contracts.ReportFilter) *[]string { return &f.Scanners },
	"severity":    func(f *contracts.ReportFilter) *[]string { return &f.Severities },
}

// parseFilters reads --filter key=value[,value…] flags (repeatable) into a report filter; nil
// when none is given (the template's filters then apply).
func parseFilters(flags []string) (*contracts.ReportFilter, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	var f contracts.ReportFilter
	for _, fl := range flags {
		k, v, ok := strings.Cut(fl, "=")
		field := filterKeys[k]
		if !ok || field == nil || v == "" {
			return nil, fmt.Errorf("--filter %q: want key=value[,value…] with key one of tag, team, environment, asset-kind, scanner, severity", fl)
		}
		*field(&f) = append(*field(&f), strings.Split(v, ",")...)
	}
	return &f, nil
}

func reportsGenerateCmd() *cobra.Command {
	var f fileFlags
	var template, format, period, from, to, timeZone, bucket string
	var filters []string
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "generate a report, wait for it (with a progress bar on a terminal) and save it",
		Long: `soc reports generate asks the node for a report (POST /v1/reports), follows the job until it is
generated, downloads the document (checking its sha256) and prints the report as JSON. Filters
and the period, when given, replace the template's. Exit 1 when the report failed (the reason
is printed), 2 when the request was refused (a bad filter, an unknown template).`,
		Args: cobra.NoArgs,
	}
	f.register(cmd)
	cmd.Flags().StringVar(&template, "template", reporting.Executive, "template: executive, findings, or a saved template's id")
	cmd.Flags().StringVar(&format, "format", "pdf", "pdf, xlsx or csv")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "key=value[,value…]: tag, team, environment, asset-kind, scanner, severity (repeatable)")
	cmd.Flags().StringVar(&period, "period", "", "last_30_days, last_90_days, quarter (the last complete one) or custom (with --from and --to)")
	cmd.Flags().StringVar(&from, "from", "", "custom period start (RFC 3339)")
	cmd.Flags().StringVar(&to, "to", "", "custom period end (RFC 3339, excluded)")
	cmd.Flags().StringVar(&timeZone, "time-zone", "", "IANA time zone of the buckets and dates (with --period)")
	cmd.Flags().StringVar(&bucket, "bucket", "", "day, week or month (with --period)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		body := contracts.RequestReport{Template: template, Format: contracts.ReportFormat(format)}
		var err error
		if body.Filters, err = parseFilters(filters); err != nil {
			return fail(cmd, 2, "%v", err)
		}
		if period != "" {
			p := contracts.ReportPeriod{Kind: contracts.ReportPeriodKind(period), TimeZone: timeZone, Bucket: contracts.ReportBucket(bucket)}
			for _, t := range []struct {
				name, v string
				dst     *time.Time
			}{{"--from", from, &p.From}, {"--to", to, &p.To}} {
				if t.v == "" {
					continue
				}
				if *t.dst, err = time.Parse(time.RFC3339, t.v); err != nil {
					return fail(cmd, 2, "%s: want an RFC 3339 time: %v", t.name, err)
				}
			}
			body.Period = &p
		} else if from != "" || to != "" || timeZone != "" || bucket != "" {
			return fail(cmd, 2, "--from, --to, --time-zone and --bucket go with --period")
		}
		c, err := f.client(cmd)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		var acc struct{ ID string }
		if err := c.Do(ctx, http.MethodPost, "/v1/reports", body, http.StatusAccepted, &acc); err != nil {
			return apiFail(cmd, err)
		}
		return awaitAndSave(cmd, ctx, c, acc.ID, f.out)
	}
	return cmd
}

// reportBar draws a report's progress (percent) on a terminal and nothing otherwise; done < 0
// ends the line.
func reportBar(w io.Writer) func(done int) {
	if !isTerminal(w) {
		return func(int) {}
	}
	var bar *progressbar.ProgressBar
	return func(done int) {
		switch {
		case done < 0:
			if bar != nil && !bar.IsFinished() {
				_ = bar.Exit()
				fmt.Fprintln(w)
			}
		case bar == nil:
			bar = newBar(w, 100, "generating", "%")
			fallthrough
		default:
			_ = bar.Set(done)
		}
	}
}

// awaitReport polls a report until it is generated or failed.
func awaitReport(ctx context.Context, c *apiclient.Client, id string, stderr io.Writer) (reporting.Report, error) {
	bar := reportBar(stderr)
	defer bar(-1)
	var poll apiclient.Poll
	for {
		var r reporting.Report
		if err := c.Do(ctx, http.MethodGet, "/v1/reports/"+url.PathEscape(id), nil, http.StatusOK, &r); err != nil {
			return r, err
		}
		bar(r.Progress)
		if r.Status == reporting.StatusGenerated || r.Status == reporting.StatusFailed {
			return r, nil
		}
		if err := poll.Wait(ctx); err != nil {
			return r, fmt.Errorf("stopped waiting for report %s (%s, %d%%): %w; `soc reports download %s` fetches it later", id, r.Status, r.Progress, err, id)
		}
	}
}

// awaitAndSave waits for a report and saves its document (saveReport); a failed report exits 1
// with its reason.
func awaitAndSave(cmd *cobra.Command, ctx context.Context, c *apiclient.Client, id, out string) error {
	r, err := awaitReport(ctx, c, id, cmd.ErrOrStderr())
	if err != nil {
		return apiFail(cmd, err)
	}
	if r.Status == reporting.StatusFailed {
		return fail(cmd, 1, "report %s failed: %s", r.ID, r.Reason)
	}
	return saveReport(cmd, ctx, c, r, out)
}

// saveReport downloads a generated report's file to out (default: the server's file name in
// the current directory), atomically and checked against the report's sha256, and prints the
// report as JSON.
func saveReport(cmd *cobra.Command, ctx context.Context, c *apiclient.Client, r reporting.Report, out string) error {
	resp, err := c.Request(ctx, http.MethodGet, "/v1/reports/"+url.PathEscape(r.ID)+"/file", nil, "")
	if err != nil {
		return fail(cmd, 1, "downloading report %s: %v", r.ID, err)
	}
	if resp.StatusCode != http.StatusOK {
		return apiFail(cmd, apiclient.Decode(resp, http.StatusOK, nil))
	}
	defer resp.Body.Close()
	if out == "" {
		_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		out = filepath.Base(params["filename"])
		if out == "." || out == "/" || out == "" {
			out = r.ID + "." + r.Format
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".soc-report-*")
	if err != nil {
		return fail(cmd, 1, "%v", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(cmd, 1, "downloading report %s: %v", r.ID, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != r.SHA256 || n != r.SizeBytes {
		return fail(cmd, 1, "report %s: the download (%d bytes, sha256 %s) is not the document generated (%d bytes, sha256 %s)", r.ID, n, got, r.SizeBytes, r.SHA256)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fail(cmd, 1, "%v", err)
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	return enc.Encode(struct {
		reporting.Report
		File string `json:"file"`
	}{r, out})
}

func reportsDownloadCmd() *cobra.Command {
	var f fileFlags
	cmd := &cobra.Command{
		Use:   "download ID",
		Short: "save a generated report's document (waiting for it when it is still being generated)",
		Args:  cobra.ExactArgs(1),
	}
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		c, err := f.client(cmd)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		return awaitAndSave(cmd, ctx, c, args[0], f.out)
	}
	return cmd
}

func reportsListCmd() *cobra.Command {
	var f clientFlags
	var status, template string
	var limit int
	cmd := &cobra.Command{Use: "list", Short: "list reports, newest first (one's own; everyone's with teams:all)", Args: cobra.NoArgs}
	f.register(cmd)
	cmd.Flags().StringVar(&status, "status", "", "pending, running, generated or failed")
	cmd.Flags().StringVar(&template, "template", "", "only reports of this template")
	cmd.Flags().IntVar(&limit, "limit", 50, "at most this many (1–500)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		q := url.Values{"limit": {strconv.Itoa(limit)}}
		if status != "" {
			q.Set("status", status)
		}
		if template != "" {
			q.Set("template", template)
		}
		var page struct {
			Items []map[string]any `json:"items"`
		}
		if err := f.call(cmd, http.MethodGet, "/v1/reports?"+q.Encode(), nil, http.StatusOK, &page); err != nil {
			return err
		}
		f.print(cmd.OutOrStdout(), page, page.Items, "id", "status", "progress", "template", "format", "requested_by", "requested_at", "size_bytes")
		return nil
	}
	return cmd
}

func templatesListCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{Use: "list", Short: "list report templates (the built-in ones first)", Args: cobra.NoArgs}
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var page struct {
			Items    []map[string]any `json:"items"`
			Sections []string         `json:"sections"`
		}
		if err := f.call(cmd, http.MethodGet, "/v1/report-templates", nil, http.StatusOK, &page); err != nil {
			return err
		}
		f.print(cmd.OutOrStdout(), page, page.Items, "id", "name", "built_in", "based_on", "sections")
		return nil
	}
	return cmd
}

func templatesShowCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{Use: "show ID", Short: "print a report template as JSON", Args: cobra.ExactArgs(1)}
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		var t json.RawMessage
		if err := f.call(cmd, http.MethodGet, "/v1/report-templates/"+url.PathEscape(args[0]), nil, http.StatusOK, &t); err != nil {
			return err
		}
		f.output = "json"
		f.print(cmd.OutOrStdout(), t, nil)
		return nil
	}
	return cmd
}

func templatesCopyCmd() *cobra.Command {
	var f clientFlags
	var name string
	var sections []string
	cmd := &cobra.Command{Use: "copy ID --name NAME", Short: "copy a report template (to edit the copy with PUT /v1/report-templates/{id})", Args: cobra.ExactArgs(1)}
	f.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "the copy's name (required)")
	cmd.Flags().StringSliceVar(&sections, "section", nil, "the copy's sections (default: the original's)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if name == "" {
			return fail(cmd, 2, "--name is required")
		}
		var t map[string]any
		body := contracts.SaveReportTemplate{Name: name, BasedOn: args[0], Sections: sections}
		if err := f.call(cmd, http.MethodPost, "/v1/report-templates", body, http.StatusCreated, &t); err != nil {
			return err
		}
		f.print(cmd.OutOrStdout(), t, []map[string]any{t}, "id", "name", "based_on", "sections")
		return nil
	}
	return cmd
}
