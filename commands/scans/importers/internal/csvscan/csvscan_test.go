package csvscan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
)

// TestReader: a BOM, CRLF line ends, quoted multi-line fields, columns in any case and spacing,
// blank lines; records come with the line they start on.
func TestReader(t *testing.T) {
	in := "\xEF\xBB\xBF Host ,NAME,Output\r\n" +
		"a,n1,\"line 1\r\nline 2\"\r\n" +
		"\r\n" +
		"b,n2,  x  \r\n"
	c, err := Open(context.Background(), strings.NewReader(in), "f", "host", "Name")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = c.Each(func(r Row) error {
		got = append(got, r.Get("HOST")+"|"+r.Get("nope", "name")+"|"+r.Get("output")+"|"+string(rune('0'+r.Line)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "a|n1|line 1\nline 2|2;b|n2|x|5"; strings.Join(got, ";") != want {
		t.Errorf("rows = %q, want %q", strings.Join(got, ";"), want)
	}
	if !c.Has(" output ") || c.Has("x") {
		t.Error("Has")
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"empty", "", "no CSV header"},
		{"missing column", "Host,x\n", "lacks the column(s) Name (it has: Host, x)"},
		{"empty required", "Host,Name\nh,\n", `column "Name": empty`},
		{"field count", "Host,Name\nh\n", "different number of fields"},
		{"bare quote", "Host,Name\nh,a\"b\n", "bare \""},
		{"invalid UTF-8", "Host,Name\nh,\xff\n", "UTF-8"},
	} {
		c, err := Open(context.Background(), strings.NewReader(tc.in), "f", "Host", "Name")
		if err == nil {
			err = c.Each(func(Row) error { return nil })
		}
		var pe *importers.ParseError
		if !errors.As(err, &pe) || pe.Format != "f" || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%s: err = %v, want a ParseError mentioning %q", tc.name, err, tc.msg)
		}
	}
}

// TestCancelled: a cancelled context stops the reading with its own error.
func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	c, err := Open(ctx, strings.NewReader("Host\n"+strings.Repeat("h\n", 1000)), "f", "Host")
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := c.Each(func(Row) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestHeader(t *testing.T) {
	for in, want := range map[string]string{
		"\xEF\xBB\xBFa,\"b c\",d\r\n1,2,3": "a|b c|d",
		"a,b":                              "a|b",
		"a\nb,c":                           "",
		"{\"a\": 1}":                       "",
		"a,\"b":                            "",
	} {
		if got := strings.Join(Header([]byte(in), 2), "|"); got != want {
			t.Errorf("Header(%q) = %q, want %q", in, got, want)
		}
	}
	if !HasColumns([]string{" IP ", "nvt oid"}, "ip", "NVT OID") || HasColumns([]string{"IP"}, "IP", "Port") {
		t.Error("HasColumns")
	}
}

// TestPortAndIgnoref: a port column refuses the file unless it is a number in 0..65535; an
// ignored optional field is a warning naming its line and column.
func TestPortAndIgnoref(t *testing.T) {
	c, err := Open(context.Background(), strings.NewReader("Host,Port,Score\nh,80,x\nh,65536,1\n"), "test", "Host")
	if err != nil {
		t.Fatal(err)
	}
	row, err := c.Next()
	if err != nil {
		t.Fatal(err)
	}
	if port, err := c.Port(row, "Port", row.Get("Port")); err != nil || port != 80 {
		t.Errorf("port %d, %v", port, err)
	}
	c.Ignoref(row, "Score", "%q is not a score", row.Get("Score"))
	if w := c.Warnings(); len(w) != 1 || w[0] != `line 2, column "Score": "x" is not a score: ignored` {
		t.Errorf("warnings %q", w)
	}
	if row, err = c.Next(); err != nil {
		t.Fatal(err)
	}
	_, err = c.Port(row, "Port", row.Get("Port"))
	var pe *importers.ParseError
	if !errors.As(err, &pe) || pe.Line != 3 || pe.Column != 3 || !strings.Contains(pe.Msg, `column "Port": "65536" is not a number in 0..65535`) {
		t.Errorf("err %v", err)
	}
}
