package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestTraceReachesJaeger: one command sent with a client traceparent yields ONE trace in a real
// Jaeger, through a real Kafka: the HTTP server span, the command, the relay's publish and the
// projection's apply, all under the client's trace id.
func TestTraceReachesJaeger(t *testing.T) {
	jaeger := requireServer(t, "SOC_TEST_JAEGER_QUERY_URL")
	otlp := requireServer(t, "SOC_TEST_OTLP_ENDPOINT")
	brokers := requireServer(t, "SOC_TEST_KAFKA_BROKERS")
	prefix := "e2etrace" + randomSuffix()
	n := startNode(t, []string{"SOC_TARGET=all", "SOC_KAFKA_BROKERS=" + brokers, "SOC_KAFKA_TOPIC_PREFIX=" + prefix,
		"SOC_OTLP_ENDPOINT=" + otlp})
	c := apiClient{t: t, base: "http://" + n.addr}

	var raw [16]byte
	_, _ = rand.Read(raw[:])
	raw[0] |= 0x10 // Jaeger prints a trace id's high half without leading zeros: keep 32 digits
	traceID := hex.EncodeToString(raw[:])
	r := c.do("POST", "/v1/assets", `{"kind":"host","name":"traced-web","identifiers":{"hostnames":["traced-web.example"]}}`, "traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	if r.status != http.StatusCreated {
		t.Fatalf("POST /v1/assets: %d %s", r.status, r.body)
	}
	var created struct {
		GlobalPosition int64 `json:"global_position"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil {
		t.Fatal(err)
	}
	// Through Kafka: the consumer groups may still be joining, so the 5 s wait can pass first.
	eventually(t, "the projection to apply the command's event", func() bool {
		return c.get(fmt.Sprintf("%s?min_position=%d", r.header.Get("Location"), created.GlobalPosition)).status == http.StatusOK
	})

	// The spans are exported in batches (every 5 s by default), the relay's and the projection's
	// a moment after the command's: poll generously.
	want := []string{"http POST /v1/assets", "command RegisterAsset", "relay publish", "projection assets apply"}
	// The gateway's `gateway <route pattern>` span, when a gateway fronts the node, joins this list.
	waitForSpans(t, jaeger, traceID, want, n.stderr)
}

// waitForSpans polls Jaeger until trace id holds spans named each of want, failing after two
// minutes with the spans it has and logs (the nodes' logs).
func waitForSpans(t *testing.T, jaeger, id string, want []string, logs fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
		names := jaegerSpanNames(t, jaeger, id)
		missing := 0
		for _, w := range want {
			if !names[w] {
				missing++
			}
		}
		if missing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("trace %s in Jaeger has spans %v, want at least %v\n%s", id, names, want, logs)
		}
	}
}

// jaegerSpanNames returns the operation names of trace id's spans in Jaeger (none while it does
// not know the trace), failing when a span of the answer has another trace id.
func jaegerSpanNames(t *testing.T, base, id string) map[string]bool {
	t.Helper()
	resp, err := http.Get(base + "/api/traces/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	if resp.StatusCode == http.StatusNotFound {
		return names
	}
	var body struct {
		Data []struct {
			Spans []struct {
				TraceID       string `json:"traceID"`
				OperationName string `json:"operationName"`
			} `json:"spans"`
		} `json:"data"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/api/traces/%s: %s", base, id, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, tr := range body.Data {
		for _, s := range tr.Spans {
			if s.TraceID != id {
				t.Fatalf("span %s of trace %s, asked for %s", s.OperationName, s.TraceID, id)
			}
			names[s.OperationName] = true
		}
	}
	return names
}
