package ws_test

import (
	"bytes"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/query-api/ws"
)

// importBurst is the read side's output for an import of findings, as the projection runner
// hands it over: batches of up to batchSize changes, global positions 1, 2, …, the severities
// taking turns.
func importBurst(findings, batchSize int) [][]projections.Change {
	severities := ws.Severities
	var batches [][]projections.Change
	for start := 0; start < findings; start += batchSize {
		batch := make([]projections.Change, 0, min(batchSize, findings-start))
		for i := start; i < start+cap(batch); i++ {
			id := fmt.Sprintf("f%06d", i)
			c := change(id, "FindingOpened", "vulns-finding-"+id, severities[i%len(severities)], "findings")
			c.Event.GlobalPosition = int64(i + 1)
			batch = append(batch, c)
		}
		batches = append(batches, batch)
	}
	return batches
}

// readCount reads events as fast as it can until it has want of them, checking that their
// positions increase and, when step > 0, that each is step after the previous one (none
// missed). It reports the count on counted as it goes and the outcome on done.
func readCount(c *websocket.Conn, want int, first, step int64, counted *atomic.Int64, done chan<- error) {
	prev := first - step
	for n := 0; n < want; n++ {
		_ = c.SetReadDeadline(time.Now().Add(guard))
		_, data, err := c.ReadMessage()
		if err != nil {
			done <- fmt.Errorf("after %d events: %w", n, err)
			return
		}
		// Cheaper than decoding the message: at this count, decoding dominates the test's time.
		p, ok := eventPosition(data)
		if !ok {
			done <- fmt.Errorf("message %d is not an event: %.80s", n, data)
			return
		}
		if p != prev+step {
			done <- fmt.Errorf("event %d at position %d, want %d", n, p, prev+step)
			return
		}
		prev = p
		counted.Store(int64(n + 1))
	}
	done <- nil
}

// A client reading continuously stays connected through a 100,000-finding import published as
// fast as the hub takes it, in projection batches of 1,000 changes, and receives every event
// its filter matches, in order; no connection ever has more than QueueBytes queued. The queue
// is smaller than one batch, so batches are paged to the clients as they read.
func TestReadingClientsGetEveryEventOfA100kImport(t *testing.T) {
	const findings, batchSize = 100_000, 1000
	const queueBytes = 256 << 10
	hub, srv := newHub(t, ws.Config{QueueBytes: queueBytes})
	all := dial(t, srv, "")
	critical := dial(t, srv, "severity=critical") // every fifth finding: positions 1, 6, 11, …
	batches := importBurst(findings, batchSize)

	var allN, critN atomic.Int64
	allDone, critDone := make(chan error, 1), make(chan error, 1)
	go readCount(all, findings, 1, 1, &allN, allDone)
	go readCount(critical, findings/len(ws.Severities), 1, int64(len(ws.Severities)), &critN, critDone)

	published := make(chan struct{})
	go func() {
		defer close(published)
		for _, b := range batches {
			hub.Publish(b)
		}
	}()
	for name, done := range map[string]chan error{"all": allDone, "critical": critDone} {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		case <-time.After(10 * guard):
			t.Fatalf("%s: timed out (all read %d of %d, critical %d)", name, allN.Load(), findings, critN.Load())
		}
	}
	<-published
	if hub.Clients() != 2 {
		t.Fatalf("Clients() = %d after the import, want both readers connected", hub.Clients())
	}
	for _, c := range []*websocket.Conn{all, critical} {
		if extra := fence(t, c); len(extra) != 0 {
			t.Fatalf("%d events beyond the import's", len(extra))
		}
	}
	if peak := hub.PeakQueueBytes(); peak > queueBytes || peak == 0 {
		t.Fatalf("a connection had %d bytes queued, bound %d", peak, queueBytes)
	}
	t.Logf("all: %d events, critical: %d events, peak queue %d bytes", allN.Load(), critN.Load(), hub.PeakQueueBytes())
}

var eventPrefix, positionKey = []byte(`{"type":"event",`), []byte(`"global_position":`)

// eventPosition returns the global position of an event message.
func eventPosition(msg []byte) (int64, bool) {
	i := bytes.Index(msg, positionKey)
	if !bytes.HasPrefix(msg, eventPrefix) || i < 0 {
		return 0, false
	}
	rest := msg[i+len(positionKey):]
	end := bytes.IndexAny(rest, ",}")
	if end < 0 {
		return 0, false
	}
	p, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	return p, err == nil
}
