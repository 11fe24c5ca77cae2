package backends_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "github.com/socplatform/soc/events/adapters/postgres"
	_ "github.com/socplatform/soc/events/adapters/sqlite"
	"github.com/socplatform/soc/events/backends"
)

func TestAdaptersRegisterThemselves(t *testing.T) {
	if got, want := backends.Names(), []string{"postgres", "sqlite"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestOpenByName(t *testing.T) {
	ctx := context.Background()
	b, err := backends.Open(ctx, "sqlite", backends.Settings{Path: filepath.Join(t.TempDir(), "events.db"), Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.SaveCheckpoint(ctx, "relay", 7); err != nil {
		t.Fatal(err)
	}
	if pos, err := b.LoadCheckpoint(ctx, "relay"); err != nil || pos != 7 {
		t.Fatalf("LoadCheckpoint = %d, %v; want 7", pos, err)
	}
}

func TestOpenReportsTheAdaptersError(t *testing.T) {
	b, err := backends.Open(context.Background(), "sqlite", backends.Settings{})
	if err == nil || !strings.Contains(err.Error(), "path is required") {
		t.Fatalf("Open without a path: err = %v, want the adapter's validation error", err)
	}
	if b != nil {
		t.Fatalf("Open failed but returned a non-nil backend %#v", b)
	}
}

func TestUnknownNameListsTheKnownOnes(t *testing.T) {
	_, err := backends.Open(context.Background(), "cassandra", backends.Settings{})
	if err == nil {
		t.Fatal("Open of an unregistered backend succeeded")
	}
	for _, want := range []string{`"cassandra"`, "postgres", "sqlite"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), `"sqlite" registered twice`) {
			t.Fatalf("recover() = %v, want a panic naming the duplicate", r)
		}
	}()
	backends.Register("sqlite", func(context.Context, backends.Settings) (backends.Backend, error) { return nil, nil })
}

func TestRegisterNeedsNameAndFunction(t *testing.T) {
	for name, reg := range map[string]func(){
		"empty name": func() {
			backends.Register("", func(context.Context, backends.Settings) (backends.Backend, error) { return nil, nil })
		},
		"nil open": func() { backends.Register("x", nil) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("Register did not panic")
				}
			}()
			reg()
		})
	}
}
