package consul

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/hashicorp/consul/api"
)

// deregisterCriticalAfter removes the services of a node that died without deregistering (a
// SIGKILL, a lost machine) once its check has failed this long; 1m is Consul's minimum.
const deregisterCriticalAfter = "1m"

// Node is what a Registrar registers: one service per target, all at Address.
type Node struct {
	ID      string   // unique per process (the service IDs are soc-<target>-<ID>)
	Address string   // host:port other instances reach this node at
	Version string   // the binary's version, in the services' Meta
	Targets []string // the targets the node runs
	Tags    []string // extra service tags
}

// Registrar registers a node's targets with the local Consul agent and deregisters them.
type Registrar struct {
	client        *api.Client
	node          Node
	checkInterval string
}

// NewRegistrar returns a Registrar of node on client; Consul probes the node's /readyz every
// cfg.CheckInterval.
func NewRegistrar(client *api.Client, cfg Config, node Node) *Registrar {
	return &Registrar{client: client, node: node, checkInterval: cfg.CheckInterval.String()}
}

// Register registers (or re-registers, replacing its checks) one service per target. The check
// starts critical: no instance receives traffic before Consul has seen its /readyz answer 200.
func (r *Registrar) Register(ctx context.Context) error {
	host, portS, err := net.SplitHostPort(r.node.Address)
	if err != nil {
		return fmt.Errorf("consul: node address %q: %w", r.node.Address, err)
	}
	port, err := strconv.Atoi(portS)
	if err != nil {
		return fmt.Errorf("consul: node address %q: bad port", r.node.Address)
	}
	for _, t := range r.node.Targets {
		reg := &api.AgentServiceRegistration{
			ID:      ServiceID(t, r.node.ID),
			Name:    ServiceName(t),
			Tags:    append([]string{"soc", t}, r.node.Tags...),
			Address: host,
			Port:    port,
			Meta:    map[string]string{"version": r.node.Version, "node": r.node.ID},
			Check: &api.AgentServiceCheck{
				CheckID:                        ServiceID(t, r.node.ID) + "-readyz",
				Name:                           "soc /readyz",
				HTTP:                           "http://" + r.node.Address + "/readyz",
				Method:                         "GET",
				Interval:                       r.checkInterval,
				Timeout:                        r.checkInterval,
				DeregisterCriticalServiceAfter: deregisterCriticalAfter,
			},
		}
		opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
		if err := r.client.Agent().ServiceRegisterOpts(reg, opts); err != nil {
			return fmt.Errorf("consul: registering %s: %w", reg.ID, err)
		}
	}
	return nil
}

// Deregister removes every service Register registered, trying each even when one fails.
func (r *Registrar) Deregister(ctx context.Context) error {
	var errs []error
	for _, t := range r.node.Targets {
		id := ServiceID(t, r.node.ID)
		if err := r.client.Agent().ServiceDeregisterOpts(id, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
			errs = append(errs, fmt.Errorf("consul: deregistering %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
