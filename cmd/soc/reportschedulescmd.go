package main

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/socplatform/soc/schemas/contracts"
)

// schedulesCmd groups the report schedule commands (reports:manage).
func schedulesCmd() *cobra.Command {
	return group(&cobra.Command{Use: "schedules", Short: "list, create and delete report schedules (cron, delivered by e-mail or chat)"},
		schedulesListCmd(), schedulesCreateCmd(), schedulesDeleteCmd())
}

func schedulesListCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{Use: "list", Short: "list report schedules with their next run", Args: cobra.NoArgs}
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var page struct {
			Items []map[string]any `json:"items"`
		}
		if err := f.call(cmd, http.MethodGet, "/v1/report-schedules", nil, http.StatusOK, &page); err != nil {
			return err
		}
		f.print(cmd.OutOrStdout(), page, page.Items, "id", "name", "template", "format", "cron", "time_zone", "enabled", "next_run")
		return nil
	}
	return cmd
}

func schedulesCreateCmd() *cobra.Command {
	var f clientFlags
	var body contracts.SaveReportSchedule
	var format, delivery string
	var filters, channels []string
	var disabled bool
	rcpt := &contracts.ReportRecipients{}
	cmd := &cobra.Command{Use: "create --name NAME --cron EXPR --template ID --format FORMAT [recipients]",
		Short: "schedule a report: generated at each cron time in --time-zone, delivered to the recipients", Args: cobra.NoArgs}
	f.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&body.Name, "name", "", "the schedule's name (required)")
	fl.StringVar(&body.Cron, "cron", "", `5 fields: minute hour day-of-month month day-of-week, e.g. "0 7 * * 1" (required)`)
	fl.StringVar(&body.TimeZone, "time-zone", "UTC", "the IANA time zone the cron expression is read in")
	fl.StringVar(&body.Template, "template", "executive", "the report template")
	fl.StringVar(&format, "format", "pdf", "pdf, xlsx or csv")
	fl.StringArrayVar(&filters, "filter", nil, "replace the template's filters: key=value[,value…] (repeatable)")
	fl.StringSliceVar(&rcpt.Users, "user", nil, "a user (id or e-mail) to e-mail it to (repeatable)")
	fl.StringSliceVar(&rcpt.Teams, "team", nil, "a team whose members get it (repeatable)")
	fl.StringSliceVar(&rcpt.Emails, "email", nil, "an e-mail address (repeatable)")
	fl.StringSliceVar(&channels, "channel", nil, "a chat channel that gets a link: slack, teams or webhook (repeatable)")
	fl.StringVar(&delivery, "delivery", "attachment", "attachment (e-mail the file when small enough, else a link) or link")
	fl.BoolVar(&disabled, "disabled", false, "save it disabled")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if body.Name == "" || body.Cron == "" {
			return fail(cmd, 2, "--name and --cron are required")
		}
		fs, err := parseFilters(filters)
		if err != nil {
			return fail(cmd, 2, "%v", err)
		}
		for _, ch := range channels {
			rcpt.Channels = append(rcpt.Channels, contracts.ReportChatChannel(ch))
		}
		enabled := !disabled
		body.Format, body.Delivery, body.Filters, body.Recipients, body.Enabled = contracts.ReportFormat(format), contracts.ReportDelivery(delivery), fs, rcpt, &enabled
		var sc map[string]any
		if err := f.call(cmd, http.MethodPost, "/v1/report-schedules", body, http.StatusCreated, &sc); err != nil {
			return err
		}
		f.print(cmd.OutOrStdout(), sc, []map[string]any{sc}, "id", "name", "cron", "time_zone", "enabled", "next_run")
		return nil
	}
	return cmd
}

func schedulesDeleteCmd() *cobra.Command {
	var f clientFlags
	cmd := &cobra.Command{Use: "delete ID", Short: "delete a report schedule (the reports it made stay)", Args: cobra.ExactArgs(1)}
	f.register(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := f.call(cmd, http.MethodDelete, "/v1/report-schedules/"+url.PathEscape(args[0]), nil, http.StatusNoContent, nil); err != nil {
			return err
		}
		return nil
	}
	return cmd
}
