package queryapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

func jsonEncode(w io.Writer, v any) error { return json.NewEncoder(w).Encode(v) }

// ETags are strong and derived from the response body: the SHA-256 of the exact bytes sent,
// truncated to 128 bits and base64url-encoded. Two responses share an ETag exactly when their
// bodies are equal, so a client revalidates any representation — a list page, a row, a
// point-in-time view — with If-None-Match and gets 304 when nothing changed. Every read
// answers Cache-Control: no-cache: caches may store it but must revalidate first, since a
// read model moves with every event.

// etagOf returns the strong entity tag of body, quotes included.
func etagOf(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// noneMatch reports whether an If-None-Match header matches etag (weak comparison, as RFC 9110
// §13.1.2 requires for If-None-Match).
func noneMatch(r *http.Request, etag string) bool {
	for _, h := range r.Header.Values("If-None-Match") {
		for _, tag := range strings.Split(h, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" {
				return true
			}
			if strings.TrimPrefix(tag, "W/") == etag {
				return true
			}
		}
	}
	return false
}

// writeJSON marshals v and sends it with its ETag, or 304 when the client holds it.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the response failed", http.StatusInternalServerError)
		return
	}
	writeBody(w, r, http.StatusOK, "application/json", append(b, '\n'))
}

func writeBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	etag := etagOf(body)
	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	if status == http.StatusOK && noneMatch(r, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
