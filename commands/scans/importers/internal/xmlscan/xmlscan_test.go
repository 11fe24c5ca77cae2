package xmlscan

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/socplatform/soc/commands/scans/importers"
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
