package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/socplatform/soc/projections/runner"
)

// isTerminal reports whether w is a terminal: bars are drawn there only, so that logs and pipes
// stay clean.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// newBar is the one progress bar of the CLI (schollz/progressbar): a count towards max, or a
// spinner while max is -1 (not known yet).
func newBar(w io.Writer, max int64, desc, unit string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetItsString(unit),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
}

// importBar follows an import's progress (findings stored of the report's total) on a terminal
// and does nothing otherwise. bar(-1, -1) ends the line.
func importBar(w io.Writer) func(done, total int) {
	if !isTerminal(w) {
		return func(int, int) {}
	}
	var bar *progressbar.ProgressBar
	return func(done, total int) {
		switch {
		case done < 0:
			if bar != nil && !bar.IsFinished() {
				_ = bar.Exit()
				fmt.Fprintln(w)
			}
		case bar == nil && total <= 0:
			bar = newBar(w, -1, "parsing", "findings")
		case total > 0:
			if bar == nil || bar.GetMax64() != int64(total) {
				bar = newBar(w, int64(total), "importing", "findings")
			}
			_ = bar.Set(done)
		}
	}
}

// replayBar draws a rebuild's progress (position of the head) on a terminal, and a line every
// few seconds otherwise (logs).
func replayBar(w io.Writer, name string) func(runner.Progress) {
	if !isTerminal(w) {
		var last time.Time
		return func(p runner.Progress) {
			if p.Done < 0 || time.Since(last) < 2*time.Second {
				return
			}
			last = time.Now()
			fmt.Fprintf(w, "%s position %d/%d  %.0f events/s  ETA %s\n", name, p.Position, p.Head, p.Rate, p.ETA.Round(time.Second))
		}
	}
	var bar *progressbar.ProgressBar
	return func(p runner.Progress) {
		if p.Done < 0 {
			if bar != nil && !bar.IsFinished() {
				_ = bar.Exit()
				fmt.Fprintln(w)
			}
			return
		}
		if bar == nil || bar.GetMax64() != p.Head {
			bar = newBar(w, p.Head, name, "events")
		}
		_ = bar.Set64(min(p.Position, p.Head))
	}
}
