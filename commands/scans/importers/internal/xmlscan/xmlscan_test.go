package xmlscan

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
	"github.com/socplatform/soc/commands/scans/importers/internal/parseutil"
)

func TestLatin1(t *testing.T) {
	b, err := io.ReadAll(NewLatin1Reader(strings.NewReader("caf\xe9")))
	if err != nil || string(b) != "café" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := CharsetReader("koi8-r", nil); err == nil {
		t.Error("unsupported encoding accepted")
	}
}

func TestScanner(t *testing.T) {
	doc := "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<r v=\"1\"><a>caf\xe9 <b>x</b></a><c><d/></c></r>\n"
	s := New(context.Background(), strings.NewReader(doc), "test")
	root, err := s.Root()
	if err != nil || root.Name.Local != "r" || Attr(root, "v") != "1" {
		t.Fatalf("root %v %v", root, err)
	}
	var texts []string
	err = s.Children(func(se xml.StartElement) error {
		if se.Name.Local != "a" {
			return s.Skip()
		}
		txt, err := s.Text(100)
		texts = append(texts, txt)
		return err
	})
	if err != nil || len(texts) != 1 || texts[0] != "café x" {
		t.Fatalf("texts %q %v", texts, err)
	}
	if err := s.Trailing(); err != nil {
		t.Fatal(err)
	}
}

func TestRefusals(t *testing.T) {
	for name, doc := range map[string]string{
		"entity": `<!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>`,
		"deep":   strings.Repeat("<a>", 300) + strings.Repeat("</a>", 300),
		"second": `<r/><s/>`,
	} {
		s := New(context.Background(), strings.NewReader(doc), "test")
		_, err := s.Root()
		if err == nil {
			err = s.Skip()
		}
		if err == nil {
			err = s.Trailing()
		}
		var pe *importers.ParseError
		if !errors.As(err, &pe) || pe.Format != "test" {
			t.Errorf("%s: err = %v, want a ParseError", name, err)
		}
	}
}

func TestRootElement(t *testing.T) {
	if se, ok := RootElement([]byte("<?xml version=\"1.0\"?>\n<!-- c --><NessusClientData_v2><Rep")); !ok || se.Name.Local != "NessusClientData_v2" {
		t.Errorf("RootElement = %v %v", se, ok)
	}
	if _, ok := RootElement([]byte("{\"a\":1}")); ok {
		t.Error("JSON taken for XML")
	}
}

// TestTree: an element read whole, with its attributes, direct text (trimmed, bounded) and
// children; the records around it stay readable.
func TestTree(t *testing.T) {
	s := New(context.Background(), strings.NewReader(`<r><v id="1"> text <a>x</a><l><i>1</i><i>2</i></l><long>0123456789</long></v><next/></r>`), "test")
	if _, err := s.Root(); err != nil {
		t.Fatal(err)
	}
	var n *Node
	var names []string
	err := s.Children(func(se xml.StartElement) error {
		names = append(names, se.Name.Local)
		if se.Name.Local != "v" {
			return s.Skip()
		}
		var err error
		n, err = s.Tree(se, 8)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "v,next" || n.Name != "v" || n.AttrValue("id") != "1" || n.Text != "text" || n.Get("a") != "x" {
		t.Fatalf("tree %+v, names %v", n, names)
	}
	var items []string
	for _, i := range n.All("l", "i") {
		items = append(items, i.Text)
	}
	if strings.Join(items, ",") != "1,2" || n.Get("missing", "x") != "" || n.Kid("missing").All("", "i") != nil {
		t.Errorf("items %v", items)
	}
	if got := n.Get("long"); !strings.HasSuffix(got, "[truncated]") {
		t.Errorf("long text %q not cut", got)
	}
}

// TestTreeBounded: a record with more elements than MaxTreeNodes is refused.
func TestTreeBounded(t *testing.T) {
	doc := "<r><v>" + strings.Repeat("<a/>", MaxTreeNodes) + "</v></r>"
	s := New(context.Background(), strings.NewReader(doc), "test")
	if _, err := s.Root(); err != nil {
		t.Fatal(err)
	}
	err := s.Children(func(se xml.StartElement) error {
		_, err := s.Tree(se, 10)
		return err
	})
	var pe *importers.ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "more than") {
		t.Errorf("err = %v", err)
	}
}

// TestGuard: the checks nmap's token decoder shares with the Scanner, on their own.
func TestGuard(t *testing.T) {
	g := Guard{Ctx: context.Background(), MaxDepth: 2}
	for _, tok := range []xml.Token{xml.StartElement{}, xml.StartElement{}, xml.EndElement{}} {
		if err := g.Check(tok); err != nil {
			t.Fatal(err)
		}
	}
	if g.Depth() != 1 {
		t.Errorf("depth %d, want 1", g.Depth())
	}
	if err := g.Check(xml.StartElement{}); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(xml.StartElement{}); err == nil || !strings.Contains(err.Error(), "nested deeper than 2") {
		t.Errorf("third level: %v", err)
	}
	for _, d := range []string{`DOCTYPE r [<!entity e "x">]`, ` ENTITY e "x"`} {
		if err := g.Check(xml.Directive(d)); err == nil || !strings.Contains(err.Error(), "entity") {
			t.Errorf("%q: %v", d, err)
		}
	}
	if err := g.Check(xml.Directive(`DOCTYPE r SYSTEM "r.dtd"`)); err != nil {
		t.Errorf("DOCTYPE without entities: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g = Guard{Ctx: ctx}
	var err error
	for i := 0; i < 256 && err == nil; i++ {
		err = g.Tick()
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("256 ticks after cancel: %v", err)
	}
}

// TestFields: named children's texts land in their fields, cut at their bounds; the others go to
// other, or are skipped without it.
func TestFields(t *testing.T) {
	doc := `<r><a>alpha</a><b>bravo</b><x><a>nested</a></x><a>again</a><y/></r>`
	s := New(context.Background(), strings.NewReader(doc), "test")
	if _, err := s.Root(); err != nil {
		t.Fatal(err)
	}
	var a, b string
	var others []string
	err := s.Fields(func(se xml.StartElement) error {
		others = append(others, se.Name.Local)
		return s.Skip()
	}, Text("a", &a, 100), Text("b", &b, 3))
	if err != nil || a != "again" || b != parseutil.Cut("bravo", 3) || strings.Join(others, ",") != "x,y" {
		t.Errorf("a %q, b %q, others %q, err %v", a, b, others, err)
	}
	s = New(context.Background(), strings.NewReader(doc), "test")
	if _, err := s.Root(); err != nil {
		t.Fatal(err)
	}
	a = ""
	if err := s.Fields(nil, Text("a", &a, 100)); err != nil || a != "again" {
		t.Errorf("without other: a %q, err %v", a, err)
	}
	if err := s.Trailing(); err != nil {
		t.Error(err)
	}
}

// TestReport: CSV text goes to csv, XML (and JSON, refused as not XML) to doc, and what follows
// the root is checked.
func TestReport(t *testing.T) {
	csv := func(context.Context, io.Reader) (*importers.Report, error) {
		return &importers.Report{Format: "csv"}, nil
	}
	doc := func(s *Scanner, root xml.StartElement) (*importers.Report, error) {
		return &importers.Report{Format: root.Name.Local}, s.Skip()
	}
	for in, want := range map[string]string{
		"\xEF\xBB\xBF a,b\n1,2\n": "csv",
		" <r><a/></r>\n":          "r",
		`<r/><s/>`:                "second root",
		`{"r": 1}`:                "text before the root",
	} {
		rep, err := Report(context.Background(), strings.NewReader(in), "test", csv, doc)
		if err != nil && !strings.Contains(err.Error(), want) || err == nil && rep.Format != want {
			t.Errorf("%q: report %+v, error %v; want %q", in, rep, err, want)
		}
	}
}

// TestEach: only the children of the given name reach fn; the others are skipped whole.
func TestEach(t *testing.T) {
	s := New(context.Background(), strings.NewReader(`<r><i n="1"/><x><i n="no"/></x><i n="2"/></r>`), "test")
	if _, err := s.Root(); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.Each("i", func(se xml.StartElement) error {
		got = append(got, Attr(se, "n"))
		return s.Skip()
	})
	if err != nil || strings.Join(got, ",") != "1,2" {
		t.Errorf("%q %v", got, err)
	}
}

func TestAs10(t *testing.T) {
	for in, want := range map[string]string{
		`<?xml version="1.1"?><issues/>`:               `<?xml version="1.0"?><issues/>`,
		"\n <?xml  version = '1.1' encoding='UTF-8'?>": "\n <?xml  version = '1.0' encoding='UTF-8'?>",
		`<?xml version="1.0"?><a/>`:                    `<?xml version="1.0"?><a/>`,
		`<a v="1.1"/>`:                                 `<a v="1.1"/>`,
	} {
		if got := string(As10([]byte(in))); got != want {
			t.Errorf("As10(%q) = %q, want %q", in, got, want)
		}
		if IsXML11([]byte(in)) != (in != want) {
			t.Errorf("IsXML11(%q) = %v", in, !(in != want))
		}
	}
	// The rewritten head is one encoding/xml reads.
	if _, ok := RootElement(As10([]byte(`<?xml version="1.1"?><issues burpVersion="1"/>`))); !ok {
		t.Error("no root element after As10")
	}
}
