package eventlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/internal/memstore"
)

func appendN(t *testing.T, s events.EventStore, streamID, typ string, n int) {
	t.Helper()
	evs := make([]events.Envelope, n)
	for i := range evs {
		evs[i] = events.Envelope{Type: typ, SchemaVersion: 1, OccurredAt: time.Now().UTC(), Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
	}
	if _, err := s.Append(context.Background(), streamID, events.Any, evs); err != nil {
		t.Fatal(err)
	}
}

// collector is a handler that records what it got and stops the run once it has want events.
type collector struct {
	mu     sync.Mutex
	got    []events.Envelope
	want   int
	cancel context.CancelFunc
}

func (c *collector) handle(ctx context.Context, batch []events.Envelope) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, batch...)
	if len(c.got) >= c.want {
		c.cancel()
	}
	return nil
}

func TestStoreConsumerFromPositionWithFilterAndLive(t *testing.T) {
	s := memstore.New()
	a := events.NewStreamID("assets", "asset")
	v := events.NewStreamID("vulns", "finding")
	appendN(t, s, a, "AssetRegistered", 3) // 1..3
	appendN(t, s, v, "FindingOpened", 3)   // 4..6
	appendN(t, s, a, "AssetTagged", 2)     // 7..8

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c := &collector{want: 4, cancel: cancel}
	sc := &eventlog.StoreConsumer{
		Store:     s,
		StartFrom: func(context.Context) (int64, error) { return 2, nil },
		BatchSize: 2,
		Filter:    eventlog.Filter{Contexts: []string{"assets"}},
	}
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx, c.handle) }()
	time.Sleep(50 * time.Millisecond)
	appendN(t, s, v, "FindingClosed", 1) // 9, filtered out
	appendN(t, s, a, "AssetRetired", 1)  // 10, live
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ctx.Err() == context.DeadlineExceeded {
		t.Fatal("timed out")
	}
	var pos []int64
	for _, e := range c.got {
		pos = append(pos, e.GlobalPosition)
	}
	if fmt.Sprint(pos) != "[3 7 8 10]" {
		t.Fatalf("positions = %v, want [3 7 8 10]", pos)
	}
}

func TestStoreConsumerReturnsHandlerError(t *testing.T) {
	s := memstore.New()
	appendN(t, s, events.NewStreamID("assets", "asset"), "AssetRegistered", 3)
	boom := errors.New("boom")
	sc := &eventlog.StoreConsumer{Store: s, StartFrom: func(context.Context) (int64, error) { return 0, nil }}
	err := sc.Run(context.Background(), func(context.Context, []events.Envelope) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want boom", err)
	}
}

func TestStoreConsumerNilOnCancel(t *testing.T) {
	s := memstore.New()
	appendN(t, s, events.NewStreamID("assets", "asset"), "AssetRegistered", 1)
	ctx, cancel := context.WithCancel(context.Background())
	sc := &eventlog.StoreConsumer{Store: s, StartFrom: func(context.Context) (int64, error) { return 0, nil }}
	err := sc.Run(ctx, func(ctx context.Context, _ []events.Envelope) error {
		cancel()
		return ctx.Err() // a handler that aborts because we are stopping
	})
	if err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
}

func TestStoreConsumerStartFromError(t *testing.T) {
	sc := &eventlog.StoreConsumer{Store: memstore.New(), StartFrom: func(context.Context) (int64, error) { return 0, errors.New("db down") }}
	if err := sc.Run(context.Background(), func(context.Context, []events.Envelope) error { return nil }); err == nil {
		t.Fatal("want an error")
	}
	if err := (&eventlog.StoreConsumer{}).Run(context.Background(), nil); err == nil {
		t.Fatal("want a configuration error")
	}
}

func TestFilterTypes(t *testing.T) {
	f := eventlog.Filter{Types: []string{"B"}}
	in := []events.Envelope{{Type: "A"}, {Type: "B"}, {Type: "C"}, {Type: "B"}}
	out := f.Apply(in)
	if len(out) != 2 || out[0].Type != "B" || out[1].Type != "B" {
		t.Fatalf("Apply = %+v", out)
	}
	if in[1].Type != "B" || in[2].Type != "C" {
		t.Fatal("Apply modified its input")
	}
	if got := (eventlog.Filter{}).Apply(in); len(got) != 4 {
		t.Fatal("zero filter must pass everything")
	}
}

type mapVersions map[string]int64

func (m mapVersions) LastVersion(_ context.Context, id string) (int64, error) { return m[id], nil }

func ev(stream string, v int64) events.Envelope {
	return events.Envelope{StreamID: stream, Version: v, EventID: fmt.Sprintf("%s/%d", stream, v)}
}

func TestVersionGuardDropsAppliedAndTracksWithinBatch(t *testing.T) {
	g := eventlog.VersionGuard{Versions: mapVersions{"a": 2, "b": 0}}
	batch := []events.Envelope{ev("a", 1), ev("a", 2), ev("b", 1), ev("a", 3), ev("b", 2), ev("a", 3), ev("a", 4)}
	out, err := g.Filter(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range out {
		ids = append(ids, e.EventID)
	}
	if fmt.Sprint(ids) != "[b/1 a/3 b/2 a/4]" {
		t.Fatalf("kept %v", ids)
	}
}

func TestVersionGuardGap(t *testing.T) {
	g := eventlog.VersionGuard{Versions: mapVersions{"a": 2}}
	_, err := g.Filter(context.Background(), []events.Envelope{ev("a", 3), ev("a", 5)})
	var gap *eventlog.GapError
	if !errors.As(err, &gap) {
		t.Fatalf("err = %v, want *GapError", err)
	}
	if gap.StreamID != "a" || gap.LastApplied != 3 || gap.Got != 5 {
		t.Fatalf("gap = %+v", gap)
	}
	g.AllowGaps = true
	out, err := g.Filter(context.Background(), []events.Envelope{ev("a", 3), ev("a", 5), ev("a", 4)})
	if err != nil || len(out) != 2 || out[1].Version != 5 {
		t.Fatalf("AllowGaps: out=%v err=%v", out, err)
	}
}

func TestVersionGuardVersionsError(t *testing.T) {
	g := eventlog.VersionGuard{Versions: eventlog.VersionsFunc(func(context.Context, string) (int64, error) {
		return 0, errors.New("db down")
	})}
	if _, err := g.Filter(context.Background(), []events.Envelope{ev("a", 1)}); err == nil {
		t.Fatal("want error")
	}
}

func TestReadToHeadReadsEveryPageAfterThePosition(t *testing.T) {
	s := memstore.New()
	appendN(t, s, events.NewStreamID("assets", "asset"), "AssetRegistered", 7)
	var pages []int
	last := int64(2)
	err := eventlog.ReadToHead(context.Background(), s, last, 2, func(evs []events.Envelope) error {
		if evs[0].GlobalPosition != last+1 {
			t.Errorf("page starts at %d after %d", evs[0].GlobalPosition, last)
		}
		pages = append(pages, len(evs))
		last = evs[len(evs)-1].GlobalPosition
		return nil
	})
	if err != nil || fmt.Sprint(pages) != "[2 2 1]" || last != 7 {
		t.Fatalf("pages %v up to %d, %v; want [2 2 1] up to 7", pages, last, err)
	}
	boom := errors.New("boom")
	if err := eventlog.ReadToHead(context.Background(), s, 0, 3, func([]events.Envelope) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("apply's error: got %v", err)
	}
}
