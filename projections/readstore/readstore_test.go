package readstore_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socplatform/soc/projections"
	"github.com/socplatform/soc/projections/readstore"
	_ "github.com/socplatform/soc/projections/sqldb"
)

func TestSQLBackendsRegisterThemselves(t *testing.T) {
	if got, want := readstore.Names(), []string{"postgres", "sqlite"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestOpenByName(t *testing.T) {
	db, err := readstore.Open(context.Background(), "sqlite", readstore.Settings{Path: filepath.Join(t.TempDir(), "readmodel.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.SQL.Close()
	if db.Dialect != projections.SQLite {
		t.Fatalf("dialect = %v, want SQLite", db.Dialect)
	}
	var one int
	if err := db.SQL.QueryRow("SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("SELECT 1 = %d, %v", one, err)
	}
}

func TestOpenReportsTheBackendsError(t *testing.T) {
	_, err := readstore.Open(context.Background(), "postgres", readstore.Settings{})
	if err == nil || !strings.Contains(err.Error(), "set a SQLite path or a PostgreSQL URL") {
		t.Fatalf("Open without a URL: err = %v, want the backend's validation error", err)
	}
}

func TestUnknownNameListsTheKnownOnes(t *testing.T) {
	_, err := readstore.Open(context.Background(), "clickhouse", readstore.Settings{})
	if err == nil {
		t.Fatal("Open of an unregistered backend succeeded")
	}
	for _, want := range []string{`"clickhouse"`, "postgres", "sqlite"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		r := recover()
		if r == nil || !strings.Contains(r.(string), `"postgres" registered twice`) {
			t.Fatalf("recover() = %v, want a panic naming the duplicate", r)
		}
	}()
	readstore.Register("postgres", func(context.Context, readstore.Settings) (*projections.DB, error) { return nil, nil })
}

func TestRegisterNeedsNameAndFunction(t *testing.T) {
	for name, reg := range map[string]func(){
		"empty name": func() {
			readstore.Register("", func(context.Context, readstore.Settings) (*projections.DB, error) { return nil, nil })
		},
		"nil open": func() { readstore.Register("x", nil) },
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
