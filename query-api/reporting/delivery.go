package reporting

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/contracts"
)

// Notifier is the notification context's side a scheduled report is delivered through: its
// people directory (users and teams to e-mail addresses) and its channel senders. cmd/soc
// adapts commands/notifications (the People port and the channels.Sender of each channel).
type Notifier interface {
	// Addresses resolves user ids (or addresses) and team names to e-mail addresses; the ones
	// it does not know, or that have no address, come back in unknown.
	Addresses(ctx context.Context, users, teams []string) (addrs, unknown []string, err error)
	// Send delivers one message on its channel.
	Send(ctx context.Context, m Message) error
}

// Message is one delivery of a scheduled report.
type Message struct {
	// ID is deterministic (report, channel, recipient): a redelivery after a crash carries the
	// same id (the e-mail's Message-ID), so a receiver can drop the duplicate.
	ID      string
	Channel string // email, slack, teams, webhook
	To      string // the e-mail address (email only)
	Subject string
	Text    string
	Link    string // the file's URL
	// Attachment is the document itself (email only, when delivery is attachment and the file is
	// at most Config.MaxAttachment).
	Attachment *Attachment
}

// Attachment is a file sent with an e-mail.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// DefaultMaxAttachment is the largest document e-mailed as an attachment: 10 MiB, under the
// 20-25 MiB most mail servers accept once base64 has grown it by a third. A larger one is sent
// as a link.
const DefaultMaxAttachment = 10 << 20

// maxDeliveries bounds the deliveries of one report (ReportDelivered's schema: 256).
const maxDeliveries = 256

// deliver delivers a generated scheduled report to its schedule's recipients and records the
// outcome (ReportDelivered, appended with the report's expected version: once per report). A
// schedule deleted since gets nothing delivered (an empty ReportDelivered). A failure to reach
// the directory records nothing: the next start delivers it again.
func (s *Service) deliver(ctx context.Context, id string) {
	s.mu.Lock()
	r := s.reports[id]
	if r == nil || r.Status != StatusGenerated || r.ScheduleID == "" || r.delivered || r.delivering {
		s.mu.Unlock()
		return
	}
	r.delivering = true
	rep, version := r.view(), r.version
	var sc *Schedule
	if cur := s.schedules[r.ScheduleID]; cur != nil {
		c := *cur
		sc = &c
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		r.delivering = false
		s.mu.Unlock()
	}()
	out := []contracts.ReportDeliveredDelivery{}
	if sc != nil && s.cfg.Notifier != nil {
		var err error
		if out, err = s.send(ctx, rep, sc); err != nil {
			s.cfg.Log.Error("reporting: delivering a scheduled report", "report_id", id, "err", err)
			return
		}
	}
	d := contracts.ReportDelivered{ReportID: id, ScheduleID: rep.ScheduleID, Deliveries: out}
	if err := s.appendOne(ctx, id, events.Exact(version), contracts.TypeReportDelivered, reportWorker.Actor(), d); err != nil {
		s.cfg.Log.Error("reporting: recording a delivery", "report_id", id, "err", err)
	}
}

// send sends rep to sc's recipients: e-mail to the users', teams' and listed addresses (the file
// attached when sc asks for it and it is small enough, else a link), a link to each chat channel.
func (s *Service) send(ctx context.Context, rep Report, sc *Schedule) ([]contracts.ReportDeliveredDelivery, error) {
	addrs, unknown, err := s.cfg.Notifier.Addresses(ctx, sc.Recipients.Users, sc.Recipients.Teams)
	if err != nil {
		return nil, err
	}
	var out []contracts.ReportDeliveredDelivery
	outcome := func(ch contracts.ReportDeliveryChannel, to string, mode contracts.ReportDelivery, err error) {
		if len(out) == maxDeliveries {
			return
		}
		d := contracts.ReportDeliveredDelivery{Channel: ch, Recipient: to, Mode: mode}
		if err != nil {
			d.Error = reason(err)
			if len(d.Error) > 1024 {
				d.Error = strings.ToValidUTF8(d.Error[:1021], "") + "..."
			}
		}
		out = append(out, d)
	}
	for _, u := range unknown {
		outcome(contracts.ReportDeliveryChannelEmail, u, contracts.ReportDeliveryLink, fmt.Errorf("no e-mail address for %q", u))
	}
	addrs = append(addrs, sc.Recipients.Emails...)
	slices.Sort(addrs)
	addrs = slices.Compact(addrs)
	link := strings.TrimSuffix(s.cfg.BaseURL, "/") + "/v1/reports/" + rep.ID + "/file"
	title := cmp.Or(rep.TemplateName, rep.Template)
	subject := fmt.Sprintf("%s: %s (%s)", sc.Name, title, rep.ScheduledFor.Format("2006-01-02"))
	var file *Attachment
	if sc.Delivery == string(contracts.ReportDeliveryAttachment) && rep.SizeBytes <= s.cfg.MaxAttachment {
		data, err := os.ReadFile(s.path(rep.ID, rep.Format))
		if err != nil {
			return nil, fmt.Errorf("reading the report's file: %w", err)
		}
		file = &Attachment{Name: fileName(rep), ContentType: render.Format(rep.Format).ContentType(), Data: data}
	}
	for _, a := range addrs {
		m := Message{ID: deliveryID(rep.ID, "email", a), Channel: "email", To: a, Subject: subject, Link: link}
		mode := contracts.ReportDeliveryLink
		if file != nil {
			m.Attachment, mode = file, contracts.ReportDeliveryAttachment
			m.Text = fmt.Sprintf("The scheduled report %q is attached (%s, %d bytes).\n\nIt is also at %s\n", sc.Name, file.Name, rep.SizeBytes, link)
		} else {
			m.Text = fmt.Sprintf("The scheduled report %q is ready (%s, %d bytes): %s\n", sc.Name, rep.Format, rep.SizeBytes, link)
		}
		outcome(contracts.ReportDeliveryChannelEmail, a, mode, s.cfg.Notifier.Send(ctx, m))
	}
	for _, ch := range sc.Recipients.Channels {
		m := Message{ID: deliveryID(rep.ID, string(ch), ""), Channel: string(ch), Subject: subject, Link: link,
			Text: fmt.Sprintf("The scheduled report %q is ready: %s", sc.Name, link)}
		outcome(contracts.ReportDeliveryChannel(ch), string(ch), contracts.ReportDeliveryLink, s.cfg.Notifier.Send(ctx, m))
	}
	return out, nil
}

// deliveryID is a delivery's id: letters, digits, '.', '-' only (an SMTP Message-ID's local
// part), the same for the same report, channel and recipient.
func deliveryID(reportID, channel, to string) string {
	h := sha256.Sum256([]byte(to))
	return strings.TrimPrefix(reportID, "reporting-") + "." + channel + "." + hex.EncodeToString(h[:6])
}
