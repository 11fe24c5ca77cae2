package channels

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
)

// TestSMTPAttachment: a message with attachments is multipart/mixed: the text body, then each
// file in base64 under its name, and the file's bytes come back whole from a real SMTP server.
func TestSMTPAttachment(t *testing.T) {
	s, be := tlsSMTP(t)
	file := make([]byte, 70_000) // every byte value, several base64 lines
	for i := range file {
		file[i] = byte(i * 7)
	}
	m := Message{ID: "report-1.email.abc", To: Recipient{Email: "ciso@example.com"}, Subject: "Weekly report", Text: "Attached.\n",
		Attachments: []Attachment{{Name: "executive-2026-05-04.pdf", ContentType: "application/pdf", Data: file}}}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	mails := be.Mails()
	if len(mails) != 1 {
		t.Fatalf("%d messages", len(mails))
	}
	for _, line := range strings.Split(string(mails[0].Data), "\r\n") {
		if len(line) > 998 || strings.Contains(line, "\n") {
			t.Fatalf("bad line %q", line)
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(mails[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: %v", mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	p, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(p)
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || strings.ReplaceAll(string(body), "\r\n", "\n") != m.Text {
		t.Fatalf("body part %q %q", ct, body)
	}
	p, err = mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	if p.FileName() != "executive-2026-05-04.pdf" || !strings.HasPrefix(p.Header.Get("Content-Type"), "application/pdf") ||
		p.Header.Get("Content-Transfer-Encoding") != "base64" {
		t.Fatalf("attachment header %v", p.Header)
	}
	enc, _ := io.ReadAll(p)
	got, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(enc), "\r\n", ""))
	if err != nil || !bytes.Equal(got, file) {
		t.Fatalf("the attachment's bytes differ from the file (%d bytes, %v)", len(got), err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Fatalf("a third part: %v", err)
	}
}
