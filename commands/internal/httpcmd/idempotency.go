package httpcmd

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/socplatform/soc/commands/internal/es"
)

// bindKey binds the invocation's Idempotency-Key to this request: its fingerprint hashes the
// command (its schema name), the route (method and path, which names the aggregate) and the
// decoded body re-encoded, so that key order and spacing do not make another request. The key is
// scoped to the principal (Meta.Actor, ActorOf) and the aggregate by es.Exec; the same key with
// another fingerprint there is refused (es.KeyReusedError, 422) instead of replaying an answer
// to a request the client did not send.
func bindKey(inv *es.Invocation, r *http.Request, schema string, cmd any) {
	if inv.Meta.IdempotencyKey == "" {
		return
	}
	body, err := json.Marshal(cmd)
	if err != nil {
		return // decoded from JSON, it encodes; were it not to, the key stays unbound (deterministic ids only)
	}
	h := sha256.New()
	for _, part := range []string{schema, r.Method, r.URL.Path} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	h.Write(body)
	inv.Fingerprint = hex.EncodeToString(h.Sum(nil))
}
