package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/internal/groupcommit"
)

func groupReq(t *testing.T, stream string, exp events.ExpectedVersion, n int) *pending {
	t.Helper()
	evs := make([]events.Envelope, n)
	for i := range evs {
		evs[i] = events.Envelope{EventID: events.NewEventID(), Type: "ThingCreated", Data: json.RawMessage(`{"name":"g"}`)}
	}
	b, err := newBatch(evs)
	if err != nil {
		t.Fatal(err)
	}
	return groupcommit.NewPending[appendReq, events.AppendResult](context.Background(),
		appendReq{streamID: stream, streamType: events.StreamTypeOf(stream), expected: exp, b: b})
}

// TestGroupCommitKeepsEachAppendsAnswer drives the committer with a group directly: refusals stay
// per append, and an append that makes PostgreSQL raise sends the whole group down the solo path,
// where every other append still lands and only the bad one fails.
func TestGroupCommitKeepsEachAppendsAnswer(t *testing.T) {
	s := openTest(t, Config{})
	a, b := events.NewStreamID("suite", "thing"), events.NewStreamID("suite", "thing")
	group := []*pending{
		groupReq(t, a, events.NoStream, 2),
		groupReq(t, b, events.NoStream, 1),
		groupReq(t, a, events.NoStream, 1), // sees the first append of the same transaction: conflict
		groupReq(t, b, events.Exact(1), 3),
	}
	s.commitGroup(group)
	want := []struct {
		version  int64
		conflict bool
	}{{2, false}, {1, false}, {0, true}, {4, false}}
	var prevLast int64
	for i, r := range group {
		res, err := r.Wait()
		var vc *events.VersionConflictError
		switch {
		case want[i].conflict:
			if !errors.As(err, &vc) || vc.Actual != 2 {
				t.Fatalf("append %d: %v, want a conflict at version 2", i, err)
			}
		case err != nil || res.NextExpectedVersion != want[i].version || res.FirstPosition <= prevLast:
			t.Fatalf("append %d: %+v %v, want version %d after position %d", i, res, err, want[i].version, prevLast)
		default:
			prevLast = res.LastPosition
		}
	}
	if h, _ := s.HeadPosition(context.Background()); h != 6 {
		t.Fatalf("head %d after a group of 2+1+3 appended events, want 6 (gapless)", h)
	}

	// A stream id PostgreSQL cannot store (NUL byte) raises inside the group.
	c := events.NewStreamID("suite", "thing")
	bad := groupReq(t, "suite-thing-\x00bad", events.Any, 1)
	group = []*pending{groupReq(t, c, events.NoStream, 1), bad, groupReq(t, c, events.Exact(1), 1)}
	s.commitGroup(group)
	for i, r := range group {
		_, err := r.Wait()
		if r == bad {
			var ie *events.InvalidEventError
			if !errors.As(err, &ie) {
				t.Fatalf("the raising append got %v, want an InvalidEventError", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("append %d next to a raising one failed: %v", i, err)
		}
	}
	evs, err := s.ReadStream(context.Background(), c, events.ReadStreamOptions{})
	if err != nil || len(evs) != 2 {
		t.Fatalf("stream beside the bad append: %d events, %v", len(evs), err)
	}
}
