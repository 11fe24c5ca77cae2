// Package modules resolves which parts of a process start, and in which order, from their
// declared dependencies (as Grafana Loki's module manager): a target asked for pulls in the
// shared services it needs, transitively, and a dependency that cannot be pulled in is reported
// before anything starts rather than at the first request that needs it.
package modules

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// All names every target at once.
const All = "all"

// Module is one named part of a process.
type Module struct {
	Name     string
	Describe string
	// Target modules are chosen by the operator (--target) and are never pulled in by a
	// dependency: they own routes and workers that must not appear in a process by surprise.
	// A dependency on a target that was not chosen refuses the start, naming it.
	Target bool
	Deps   []string
	// After orders this module after others when they run in the same process, without pulling
	// them in (the query API uses the projection runners of its process when there are any).
	After []string
}

// Graph is a checked set of modules: every dependency is known and there is no cycle.
type Graph struct {
	mods map[string]Module
}

// New checks the modules' dependencies and returns their graph.
func New(mods ...Module) (*Graph, error) {
	g := &Graph{mods: make(map[string]Module, len(mods))}
	for _, m := range mods {
		if m.Name == "" || m.Name == All {
			return nil, fmt.Errorf("modules: invalid module name %q", m.Name)
		}
		if _, dup := g.mods[m.Name]; dup {
			return nil, fmt.Errorf("modules: module %q declared twice", m.Name)
		}
		g.mods[m.Name] = m
	}
	for _, n := range g.names() {
		for _, d := range g.edges(n) {
			if _, ok := g.mods[d]; !ok {
				return nil, fmt.Errorf("modules: module %q depends on unknown module %q", n, d)
			}
		}
	}
	// A cycle would make every start order wrong; find it now, with its path.
	state := map[string]int{} // 0 unvisited, 1 on the path, 2 done
	var path []string
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			i := slices.Index(path, n)
			return fmt.Errorf("modules: dependency cycle %s", strings.Join(append(path[i:], n), " -> "))
		case 2:
			return nil
		}
		state[n] = 1
		path = append(path, n)
		for _, d := range g.edges(n) {
			if err := visit(d); err != nil {
				return err
			}
		}
		path = path[:len(path)-1]
		state[n] = 2
		return nil
	}
	for _, n := range g.names() {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Module returns the module called name.
func (g *Graph) Module(name string) (Module, bool) {
	m, ok := g.mods[name]
	return m, ok
}

// Targets returns the names of the target modules, sorted.
func (g *Graph) Targets() []string {
	var out []string
	for _, n := range g.names() {
		if g.mods[n].Target {
			out = append(out, n)
		}
	}
	return out
}

// Deps returns every module name starts after, transitively, in start order.
func (g *Graph) Deps(name string) []string {
	order := g.order([]string{name}, nil)
	return order[:len(order)-1]
}

// Resolve returns the modules to start for the chosen targets, dependencies first; the order is
// deterministic (dependencies in declaration order, then the targets in sorted order). It fails
// naming every unknown target and every target needed beside a chosen one but not chosen.
func (g *Graph) Resolve(targets []string) ([]string, error) {
	chosen := map[string]bool{}
	var unknown []string
	for _, t := range targets {
		if t == All {
			for _, n := range g.Targets() {
				chosen[n] = true
			}
			continue
		}
		if m, ok := g.mods[t]; !ok || !m.Target {
			unknown = append(unknown, t)
			continue
		}
		chosen[t] = true
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown target %q (known: %s, %s)", unknown[0], All, strings.Join(g.Targets(), ", "))
	}
	var roots []string
	for n := range chosen {
		roots = append(roots, n)
	}
	sort.Strings(roots)
	// The After edges order only modules that run anyway: resolve the Deps closure first.
	running := map[string]bool{}
	for _, n := range g.order(roots, nil) {
		running[n] = true
	}
	order := g.order(roots, running)
	var problems []string
	for _, n := range order {
		for _, d := range g.mods[n].Deps {
			if g.mods[d].Target && !chosen[d] {
				problems = append(problems, fmt.Sprintf("%s needs module %q running in the same process (add it to --target)", n, d))
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return order, nil
}

// order is a depth-first post-order from roots: every module after its dependencies, once,
// and after the modules it runs After that are in running.
func (g *Graph) order(roots []string, running map[string]bool) []string {
	seen := map[string]bool{}
	var out []string
	var visit func(n string)
	visit = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		for _, d := range g.mods[n].Deps {
			visit(d)
		}
		for _, d := range g.mods[n].After {
			if running[d] {
				visit(d)
			}
		}
		out = append(out, n)
	}
	for _, r := range roots {
		visit(r)
	}
	return out
}

// edges are the modules n may start after: its dependencies and its After modules.
func (g *Graph) edges(n string) []string {
	m := g.mods[n]
	return append(append([]string(nil), m.Deps...), m.After...)
}

func (g *Graph) names() []string {
	out := make([]string, 0, len(g.mods))
	for n := range g.mods {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
