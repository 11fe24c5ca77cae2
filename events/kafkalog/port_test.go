package kafkalog

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/socplatform/soc/events"
	"github.com/socplatform/soc/events/eventlog"
	"github.com/socplatform/soc/events/internal/memstore"
)

// projection is a minimal read model behind the eventlog port: per stream, the last applied
// version and the event ids in order, deduplicated by a VersionGuard.
type projection struct {
	mu       sync.Mutex
	versions map[string]int64
	ids      map[string][]string
	applied  int
	want     int
	done     context.CancelFunc
}

func newProjection(want int, done context.CancelFunc) *projection {
	return &projection{versions: map[string]int64{}, ids: map[string][]string{}, want: want, done: done}
}

func (p *projection) handle(ctx context.Context, batch []events.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	guard := eventlog.VersionGuard{Versions: eventlog.VersionsFunc(func(_ context.Context, id string) (int64, error) {
		return p.versions[id], nil
	})}
	fresh, err := guard.Filter(ctx, batch)
	if err != nil {
		return err
	}
	for _, e := range fresh {
		p.versions[e.StreamID] = e.Version
		p.ids[e.StreamID] = append(p.ids[e.StreamID], e.EventID)
	}
	if p.applied += len(fresh); p.applied >= p.want {
		p.done()
	}
	return nil
}

// TestPortSameResultFromStoreAndKafka: a projection fed through the eventlog port ends in the
// same state whether the store subscription or Kafka (via the relay) serves it.
func TestPortSameResultFromStoreAndKafka(t *testing.T) {
	_, brokers := fakeKafka(t)
	store := memstore.New()
	seed(t, store, []string{"assets", "vulns", "scans"}, 5, 20) // 300
	cps := newCheckpoints()
	r, _ := NewRelay(relayConfig(brokers, "soc"), store, cps)
	relayUntil(t, r, cps, 300, "relay")

	run := func(c eventlog.Consumer) *projection {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p := newProjection(300, cancel)
		if err := c.Run(ctx, p.handle); err != nil {
			t.Fatal(err)
		}
		if p.applied != 300 {
			t.Fatalf("%T applied %d of 300", c, p.applied)
		}
		return p
	}
	fromStore := run(&eventlog.StoreConsumer{Store: store, StartFrom: func(context.Context) (int64, error) { return 0, nil }})
	kc, err := NewConsumer(consumerConfig(brokers, "g-port"))
	if err != nil {
		t.Fatal(err)
	}
	fromKafka := run(kc)
	if !reflect.DeepEqual(fromStore.versions, fromKafka.versions) || !reflect.DeepEqual(fromStore.ids, fromKafka.ids) {
		t.Fatal("the projection differs between the store subscription and Kafka")
	}
}
