package querykit

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/socplatform/soc/schemas/problem"
)

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

// WriteJSON marshals v and sends it with its ETag, or 304 when the client holds it.
func WriteJSON(w http.ResponseWriter, r *http.Request, v any) {
	b, err := marshalBody(v)
	if err != nil {
		problem.Error(w, r, nil, fmt.Errorf("encoding the response: %w", err))
		return
	}
	WriteBody(w, r, http.StatusOK, "application/json", b)
}

// marshalBody is the JSON body of v, newline-terminated.
func marshalBody(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// WriteBody sends body with its ETag, or 304 when the client holds it.
func WriteBody(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	writeEntity(w, r, status, &entity{body: body, etag: etagOf(body), contentType: contentType})
}

// writeEntity sends e (whose etag is etagOf(e.body)), or 304 when the client holds it.
func writeEntity(w http.ResponseWriter, r *http.Request, status int, e *entity) {
	h := w.Header()
	h.Set("ETag", e.etag)
	h.Set("Cache-Control", "no-cache")
	if status == http.StatusOK && noneMatch(r, e.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", e.contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(e.body)
}
