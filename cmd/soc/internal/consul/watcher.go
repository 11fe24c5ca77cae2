package consul

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/hashicorp/consul/api"
)

// Instance is one passing instance of a service.
type Instance struct {
	ID  string // the Consul service ID (soc-<target>-<node id>)
	URL string // http://host:port
}

// Watcher keeps the passing instances of a set of services, each followed by a blocking query.
type Watcher struct {
	client   *api.Client
	log      *slog.Logger
	services []string
	onChange func(service string, instances []Instance)

	mu        sync.RWMutex
	instances map[string][]Instance
	pending   map[string]bool // services not synced yet
	ready     chan struct{}
}

// NewWatcher returns a Watcher of services (Consul service names, see ServiceName). onChange,
// when not nil, is called after every change of a service's passing instances, from the goroutine
// following that service (one per service: calls for one service never overlap).
func NewWatcher(client *api.Client, log *slog.Logger, services []string, onChange func(service string, instances []Instance)) *Watcher {
	w := &Watcher{client: client, log: log, services: slices.Clone(services), onChange: onChange,
		instances: map[string][]Instance{}, pending: map[string]bool{}, ready: make(chan struct{})}
	for _, s := range services {
		w.pending[s] = true
	}
	if len(services) == 0 {
		close(w.ready)
	}
	return w
}

// Run follows every service until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range w.services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			follow(ctx, w.log, "health of "+s, func(ctx context.Context, index uint64) (uint64, error) {
				entries, meta, err := w.client.Health().Service(s, "", true,
					(&api.QueryOptions{WaitIndex: index, WaitTime: waitTime}).WithContext(ctx))
				if err != nil {
					return 0, err
				}
				w.set(s, instancesOf(entries))
				return meta.LastIndex, nil
			})
		}()
	}
	wg.Wait()
}

// Ready is closed once every service's instances have been read once.
func (w *Watcher) Ready() <-chan struct{} { return w.ready }

// Instances returns the passing instances of service, sorted by ID (nil before the first sync or
// for a service not watched). The slice is the caller's.
func (w *Watcher) Instances(service string) []Instance {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Clone(w.instances[service])
}

// TargetInstances returns the passing instances of target's service (see ServiceName): the
// shape a gateway's discovery asks for.
func (w *Watcher) TargetInstances(target string) []Instance { return w.Instances(ServiceName(target)) }

func (w *Watcher) set(service string, list []Instance) {
	w.mu.Lock()
	changed := !slices.Equal(w.instances[service], list) || w.pending[service]
	w.instances[service] = list
	if w.pending[service] {
		delete(w.pending, service)
		if len(w.pending) == 0 {
			close(w.ready)
		}
	}
	w.mu.Unlock()
	if changed {
		w.log.Info("consul service instances", "service", service, "passing", len(list))
		if w.onChange != nil {
			w.onChange(service, slices.Clone(list))
		}
	}
}

// instancesOf turns health entries into instances; a service registered without an address
// is reached at its node's address, as Consul's DNS interface does.
func instancesOf(entries []*api.ServiceEntry) []Instance {
	list := make([]Instance, 0, len(entries))
	for _, e := range entries {
		if e.Service == nil {
			continue
		}
		host := e.Service.Address
		if host == "" && e.Node != nil {
			host = e.Node.Address
		}
		list = append(list, Instance{ID: e.Service.ID, URL: "http://" + net.JoinHostPort(host, strconv.Itoa(e.Service.Port))})
	}
	slices.SortFunc(list, func(a, b Instance) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	})
	return list
}
