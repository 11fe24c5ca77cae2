package main

import (
	"context"
	"io"

	scanapp "github.com/socplatform/soc/commands/scans/app"
	"github.com/socplatform/soc/commands/scans/ports"
)

// startCommands serves the write API. The importer rebuilds its lookups (assets index, findings
// per scope) from the store before the node answers, then follows the store.
func startCommands(ctx context.Context, a *app) (readiness, error) {
	im, err := scanapp.New(a.store, scanapp.Options{})
	if err != nil {
		return nil, err
	}
	if err := im.Start(ctx); err != nil {
		return nil, err
	}
	imports := ports.NewImports(ports.ImportsConfig{MaxBodyBytes: a.cfg.MaxImportBytes}, func(ctx context.Context, r io.Reader, format, scanID, actor string, progress func(int, int)) (any, error) {
		return im.Import(ctx, r, scanapp.Request{Format: format, ScanID: scanID, Actor: actor, Progress: progress})
	}, a.log)
	imports.Register(a.mux)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		<-ctx.Done()
		imports.Close()
		if err := im.Wait(); err != nil {
			a.log.Error("importer stopped following the store", "err", err)
		}
	}()
	return nil, nil
}
