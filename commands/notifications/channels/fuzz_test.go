package channels

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzVerifyWebhook: VerifyWebhook never panics on hostile headers; what
// SignWebhook signs verifies; a changed body never does.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`{"id":"d-1"}`), "1780000000", "v1=00", "d-1")
	f.Add([]byte(``), "", "", "")
	f.Add([]byte(`{"id":1}`), "-1", "v1=zz,v1=", "x")
	f.Add([]byte(`[1,2]`), "99999999999999999999", "v1", "")
	f.Fuzz(func(t *testing.T, body []byte, ts, sig, delivery string) {
		secret := []byte(testSecret)
		now := time.Unix(1_780_000_000, 0)
		h := http.Header{}
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		h.Set(HeaderDelivery, delivery)
		_ = VerifyWebhook(secret, h, body, now, time.Minute)

		h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(HeaderSignature, SignWebhook(secret, now.Unix(), body))
		err := VerifyWebhook(secret, h, body, now, time.Minute)
		if err != nil && err != ErrWebhookDeliveryMismatch {
			t.Fatalf("own signature refused: %v", err)
		}
		changed := append(append([]byte(nil), body...), ' ')
		if VerifyWebhook(secret, h, changed, now, time.Minute) == nil {
			t.Fatal("changed body verified")
		}
	})
}

// FuzzEscapeMrkdwn: escaped text contains no raw '<' or '>' and every '&'
// starts an entity.
func FuzzEscapeMrkdwn(f *testing.F) {
	f.Add("a <b> & c")
	f.Add("<!channel>")
	f.Fuzz(func(t *testing.T, s string) {
		e := EscapeMrkdwn(s)
		for i := 0; i < len(e); i++ {
			switch e[i] {
			case '<', '>':
				t.Fatalf("raw %q in %q", e[i], e)
			case '&':
				rest := e[i:]
				if !(len(rest) >= 5 && rest[:5] == "&amp;" || len(rest) >= 4 && (rest[:4] == "&lt;" || rest[:4] == "&gt;")) {
					t.Fatalf("bare & in %q", e)
				}
			}
		}
	})
}
