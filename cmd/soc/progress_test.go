package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/socplatform/soc/projections/runner"
)

func TestBarsStayOffPipes(t *testing.T) {
	var buf bytes.Buffer
	bar := importBar(&buf)
	bar(0, 0)
	bar(5, 10)
	bar(-1, -1)
	if buf.Len() != 0 {
		t.Fatalf("an import bar drew on a pipe: %q", buf.String())
	}
	rb := replayBar(&buf, "findings")
	rb(runner.Progress{Position: 5, Head: 10, Rate: 100, ETA: time.Second})
	rb(runner.Progress{Position: 6, Head: 10}) // within 2 s of the last line: nothing
	rb(runner.Progress{Done: -1})
	if got := strings.Count(buf.String(), "\n"); got != 1 || !strings.Contains(buf.String(), "findings position 5/10") {
		t.Fatalf("a replay on a pipe logs one line every few seconds, got %q", buf.String())
	}
}

func TestBarShowsCount(t *testing.T) {
	var buf bytes.Buffer
	bar := newBar(&buf, 10, "importing", "findings")
	_ = bar.Set(10) // reaching max renders regardless of the throttle
	if !strings.Contains(buf.String(), "10/10") || !strings.Contains(buf.String(), "importing") {
		t.Fatalf("bar output %q lacks the count or the description", buf.String())
	}
}
