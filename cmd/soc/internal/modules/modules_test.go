package modules

import (
	"reflect"
	"strings"
	"testing"
)

func graph(t *testing.T) *Graph {
	t.Helper()
	g, err := New(
		Module{Name: "store"},
		Module{Name: "read-db", Deps: []string{"store"}},
		Module{Name: "writer", Target: true, Deps: []string{"store"}},
		Module{Name: "reader", Target: true, Deps: []string{"read-db"}},
		Module{Name: "worker", Target: true, Deps: []string{"writer", "read-db"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestResolvePullsInServicesDependenciesFirst(t *testing.T) {
	got, err := graph(t).Resolve([]string{"reader"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"store", "read-db", "reader"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestResolveAllIsEveryTargetInADeterministicOrder(t *testing.T) {
	got, err := graph(t).Resolve([]string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"store", "read-db", "reader", "writer", "worker"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestResolveRefusesATargetNeededButNotChosen(t *testing.T) {
	_, err := graph(t).Resolve([]string{"worker"})
	if err == nil || !strings.Contains(err.Error(), `worker needs module "writer"`) {
		t.Fatalf("err = %v, want it to name the missing writer module", err)
	}
	if _, err := graph(t).Resolve([]string{"worker", "writer"}); err != nil {
		t.Fatalf("with the writer beside it: %v", err)
	}
}

func TestResolveRejectsUnknownTargetsAndServices(t *testing.T) {
	for _, name := range []string{"bogus", "store"} {
		if _, err := graph(t).Resolve([]string{name}); err == nil || !strings.Contains(err.Error(), `unknown target "`+name+`"`) {
			t.Errorf("Resolve(%s) err = %v", name, err)
		}
	}
}

func TestNewRejectsCyclesAndUnknownDependencies(t *testing.T) {
	_, err := New(Module{Name: "a", Deps: []string{"b"}}, Module{Name: "b", Deps: []string{"a"}})
	if err == nil || !strings.Contains(err.Error(), "cycle a -> b -> a") {
		t.Fatalf("cycle: err = %v", err)
	}
	_, err = New(Module{Name: "a", Deps: []string{"nope"}})
	if err == nil || !strings.Contains(err.Error(), `unknown module "nope"`) {
		t.Fatalf("unknown dep: err = %v", err)
	}
}

func TestDepsAreTransitive(t *testing.T) {
	if got, want := graph(t).Deps("worker"), []string{"store", "writer", "read-db"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Deps(worker) = %v, want %v", got, want)
	}
}

func TestAfterOrdersWithoutPullingIn(t *testing.T) {
	g, err := New(
		Module{Name: "db"},
		Module{Name: "api", Target: true, Deps: []string{"db"}, After: []string{"runner"}},
		Module{Name: "runner", Target: true, Deps: []string{"db"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Resolve([]string{"api"})
	if err != nil || !reflect.DeepEqual(got, []string{"db", "api"}) {
		t.Fatalf("api alone: %v, %v; want [db api] (runner not pulled in)", got, err)
	}
	got, err = g.Resolve([]string{"api", "runner"})
	if err != nil || !reflect.DeepEqual(got, []string{"db", "runner", "api"}) {
		t.Fatalf("api and runner: %v, %v; want the runner first although api sorts before it", got, err)
	}
	if _, err := New(Module{Name: "a", After: []string{"b"}}, Module{Name: "b", Deps: []string{"a"}}); err == nil {
		t.Fatal("a cycle through After was accepted")
	}
}
