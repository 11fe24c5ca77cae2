package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	notifyapp "github.com/socplatform/soc/commands/notifications/app"
	"github.com/socplatform/soc/commands/notifications/channels"
	"github.com/socplatform/soc/commands/notifications/channels/smtptest"
	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/eventstest"
	"github.com/socplatform/soc/query-api/reporting"
	"github.com/socplatform/soc/query-api/reporting/render"
	"github.com/socplatform/soc/schemas/access"
	"github.com/socplatform/soc/schemas/contracts"
)

// TestScheduledReportIsEmailedWithItsPDF: a schedule fires, the PDF is generated and e-mailed
// through the notification context's SMTP sender to the directory's team members, and the
// attachment a real SMTP server received is the file, byte for byte; a larger file than the
// attachment limit goes as a link instead.
func TestScheduledReportIsEmailedWithItsPDF(t *testing.T) {
	for _, c := range []struct {
		name       string
		max        int64
		attachment bool
	}{{"attachment", reporting.DefaultMaxAttachment, true}, {"link", 1024, false}} {
		t.Run(c.name, func(t *testing.T) {
			srv, err := smtptest.Start(smtptest.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })
			smtp, err := channels.NewSMTP(channels.SMTPConfig{Addr: srv.Addr(), From: "SOC <soc@example.org>", Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			dir, err := notifyapp.NewDirectory(notifyapp.Directory{
				Users: []notifyapp.User{{ID: "ciso", Email: "ciso@example.org"}, {ID: "rita", Email: "rita@example.org"}},
				Teams: []notifyapp.Team{{Name: "security", Members: []string{"ciso", "rita"}}}})
			if err != nil {
				t.Fatal(err)
			}
			store, _ := eventstest.OpenSQLite(t, sqlite.Config{})
			var mu sync.Mutex
			now := time.Date(2026, 5, 3, 12, 0, 0, 0, time.UTC)
			data := t.TempDir()
			svc, err := reporting.NewService(reporting.Config{Store: store, Findings: oneFinding{}, Renderers: render.Renderers(), Dir: data,
				Notifier: reportNotifier{people: dir.People(), senders: map[string]channels.Sender{channels.ChannelEmail: smtp}},
				BaseURL:  "https://soc.example.org", MaxAttachment: c.max,
				Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			t.Cleanup(func() { cancel(); svc.Wait() })
			if err := svc.Start(ctx); err != nil {
				t.Fatal(err)
			}
			admin := access.Principal{Kind: access.KindUser, ID: "admin", Perms: access.Permissions()}
			sc, err := svc.SaveSchedule(ctx, "", contracts.SaveReportSchedule{Name: "Monday findings", Template: "findings", Format: "pdf",
				Cron: "0 7 * * 1", TimeZone: "Europe/Paris", Recipients: &contracts.ReportRecipients{Teams: []string{"security"}}}, admin)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			now = time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC) // Monday 07:00 in Paris
			mu.Unlock()
			if _, err := svc.FireDue(ctx); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second) // a bound on a hang, not a timing assertion
			var rep reporting.Report
			for {
				reps := svc.Reports(reporting.ReportQuery{Limit: 1}, admin)
				if len(reps) == 1 && reps[0].Deliveries != nil {
					rep = reps[0]
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("not delivered: %+v", reps)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if rep.ScheduleID != sc.ID || len(rep.Deliveries) != 2 {
				t.Fatalf("report %+v", rep)
			}
			file, err := os.ReadFile(filepath.Join(data, "reports", rep.ID+".pdf"))
			if err != nil {
				t.Fatal(err)
			}
			mails := srv.Mails()
			var to []string
			for _, m := range mails {
				to = append(to, m.To...)
				att, text := parseMail(t, m.Data)
				if c.attachment != (att != nil) {
					t.Fatalf("attachment %v, want %v", att != nil, c.attachment)
				}
				if att != nil && !bytes.Equal(att, file) {
					t.Fatalf("the attachment (%d bytes) is not the file (%d bytes)", len(att), len(file))
				}
				if !strings.Contains(text, "https://soc.example.org/v1/reports/"+rep.ID+"/file") {
					t.Fatalf("no link in %q", text)
				}
			}
			slices.Sort(to)
			if !slices.Equal(to, []string{"ciso@example.org", "rita@example.org"}) {
				t.Fatalf("mailed %v", to)
			}
			for _, d := range rep.Deliveries {
				if d.Error != "" || (d.Mode == contracts.ReportDeliveryAttachment) != c.attachment {
					t.Fatalf("recorded %+v", d)
				}
			}
			evs, err := store.ReadStream(ctx, rep.ID, events.ReadStreamOptions{})
			if err != nil || len(evs) != 3 || evs[2].Type != contracts.TypeReportDelivered {
				t.Fatalf("stream %v %v", evs, err)
			}
		})
	}
}

// parseMail returns a message's attachment (nil without one) and its text.
func parseMail(t *testing.T, data []byte) (attachment []byte, text string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if mt != "multipart/mixed" {
		b, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		return nil, string(b)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return attachment, text
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if p.FileName() == "" {
			text = string(b)
			continue
		}
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/pdf") || !strings.HasSuffix(p.FileName(), ".pdf") {
			t.Fatalf("attachment %q %q", ct, p.FileName())
		}
		attachment, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
		if err != nil {
			t.Fatal(err)
		}
	}
}
