package feeds

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEPSSShared5Rows(t *testing.T) {
	rows, st, data := mustCollect(t, collectEPSS, "epss", "epss_scores_2025-02-20_5rows.csv")
	// awk -F, '/^CVE-/{n++} END{print n}' epss_scores_2025-02-20_5rows.csv → 5
	// head -1 → #model_version:v2023.03.01,score_date:2025-02-20T00:00:00+0000
	scoreDate := time.Date(2025, 2, 20, 0, 0, 0, 0, time.UTC)
	if len(rows) != 5 || st.Records != 5 || st.Bytes != int64(len(data)) {
		t.Fatalf("%d rows, stats %+v", len(rows), st)
	}
	wantMeta := &EPSSMeta{ModelVersion: "v2023.03.01", ScoreDate: scoreDate, Columns: []string{"cve", "epss", "percentile"}}
	if !reflect.DeepEqual(st.EPSS, wantMeta) {
		t.Errorf("meta %+v", st.EPSS)
	}
	// awk -F, '$1=="CVE-1999-0005"' → CVE-1999-0005,0.91963,0.99214
	want := EPSSScore{CVEID: "CVE-1999-0005", EPSS: 0.91963, Percentile: 0.99214, ModelVersion: "v2023.03.01", ScoreDate: scoreDate}
	if rows[4] != want {
		t.Errorf("last row %+v, want %+v", rows[4], want)
	}
	// awk -F, '/^CVE-/{s+=$2} END{print s}' → 0.99
	if sum := sumEPSS(rows); sum < 0.98999 || sum > 0.99001 {
		t.Errorf("sum of epss %v, want 0.99", sum)
	}
}

func TestEPSSShared2026Head100(t *testing.T) {
	rows, st, _ := mustCollect(t, collectEPSS, "epss", "epss_scores_2026-09-29_head100.csv")
	// awk 'END{print NR}' → 102 lines (comment, header, 100 rows); awk -F, '/^CVE-/{n++} END{print n}' → 100
	// head -1 → #model_version:v2026.06.15,score_date:2026-09-29T12:00:22Z
	if len(rows) != 100 || st.Records != 100 {
		t.Fatalf("%d rows", len(rows))
	}
	if st.EPSS.ModelVersion != "v2026.06.15" || st.EPSS.ScoreDate != time.Date(2026, 9, 29, 12, 0, 22, 0, time.UTC) {
		t.Errorf("meta %+v", st.EPSS)
	}
	// awk -F, '$1=="CVE-1999-0016"' → CVE-1999-0016,0.95739,0.99871 (also the maximum:
	// awk -F, 'NR>2 && ($2>m){m=$2;id=$1} END{print id,m}' → CVE-1999-0016 0.95739)
	var max EPSSScore
	for _, r := range rows {
		if r.EPSS > max.EPSS {
			max = r
		}
		if r.ModelVersion != "v2026.06.15" {
			t.Fatalf("row %+v", r)
		}
	}
	if max.CVEID != "CVE-1999-0016" || max.EPSS != 0.95739 || max.Percentile != 0.99871 {
		t.Errorf("max %+v", max)
	}
	// The file skips CVE-1999-0020; the last row is CVE-1999-0101,0.07837,0.9449 (tail -1)
	if r := rows[99]; r.CVEID != "CVE-1999-0101" || r.EPSS != 0.07837 || r.Percentile != 0.9449 {
		t.Errorf("last %+v", r)
	}
	// awk -F, '/^CVE-/{s+=$2} END{print s}' → 8.54222
	if sum := sumEPSS(rows); sum < 8.542219 || sum > 8.542221 {
		t.Errorf("sum %v, want 8.54222", sum)
	}
}

func TestEPSSVariants(t *testing.T) {
	for name, doc := range map[string]string{
		"no comment":        "cve,epss,percentile\nCVE-2024-0001,0.5,0.9\n",
		"crlf":              "#model_version:v1,score_date:2025-01-01T00:00:00+0000\r\ncve,epss,percentile\r\nCVE-2024-0001,0.5,0.9\r\n",
		"no final newline":  "cve,epss,percentile\nCVE-2024-0001,0.5,0.9",
		"column order":      "percentile,cve,epss\n0.9,CVE-2024-0001,0.5\n",
		"extra column":      "cve,epss,percentile,note\nCVE-2024-0001,0.5,0.9,x\n",
		"quoted and blanks": "\n\"cve\",\"epss\",\"percentile\"\n\n\"CVE-2024-0001\",\"0.5\",\"0.9\"\n\n",
		"exponent":          "cve,epss,percentile\nCVE-2024-0001,5e-1,9E-1\n",
		"gzip":              gz([]byte("cve,epss,percentile\nCVE-2024-0001,0.5,0.9\n")),
		"bom":               "\uFEFFcve,epss,percentile\nCVE-2024-0001,0.5,0.9\n",
	} {
		rows, _, err := collectEPSS(Options{}, []byte(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(rows) != 1 || rows[0].CVEID != "CVE-2024-0001" || rows[0].EPSS != 0.5 || rows[0].Percentile != 0.9 {
			t.Errorf("%s: %+v", name, rows)
		}
	}
}

func TestEPSSErrors(t *testing.T) {
	const head = "#model_version:v2025.03.14,score_date:2025-03-16T00:00:00+0000\ncve,epss,percentile\nCVE-2024-0001,0.1,0.2\n"
	for _, tc := range []struct {
		name, doc    string
		cause        error
		line, column int
		field        string
		record       int
	}{
		{"too many columns", head + "CVE-2024-0002,0.1,0.2,0.3\n", ErrInvalidValue, 4, 22, "", 1},
		{"too few columns", head + "CVE-2024-0002,0.1\n", ErrInvalidValue, 4, 18, "", 1},
		{"bad id", head + "CVE-2024-2,0.1,0.2\n", ErrInvalidValue, 4, 1, "cve", 1},
		{"epss 1e400", head + "CVE-2024-0002,1e400,0.2\n", ErrInvalidValue, 4, 15, "epss", 1},
		{"epss above 1", head + "CVE-2024-0002,1.5,0.2\n", ErrInvalidValue, 4, 15, "epss", 1},
		{"percentile negative", head + "CVE-2024-0002,0.1,-0.2\n", ErrInvalidValue, 4, 19, "percentile", 1},
		{"percentile NaN", head + "CVE-2024-0002,0.1,NaN\n", ErrInvalidValue, 4, 19, "percentile", 1},
		{"epss hex", head + "CVE-2024-0002,0x1p-2,0.2\n", ErrInvalidValue, 4, 15, "epss", 1},
		{"epss empty", head + "CVE-2024-0002,,0.2\n", ErrInvalidValue, 4, 15, "epss", 1},
		{"invalid UTF-8", head + "CVE-2024-0002,0.1,0.\xff\n", ErrInvalidUTF8, 4, 21, "", -1},
		{"bad score date", "#model_version:v1,score_date:tomorrow\ncve,epss,percentile\n", ErrInvalidValue, 1, 30, "score_date", -1},
		{"no header", "CVE-2024-0001,0.1,0.2\n", ErrUnknownFormat, 1, 1, "", -1},
		{"empty", "", ErrUnknownFormat, 1, 1, "", -1},
		{"only a comment", "#model_version:v1\n", ErrUnknownFormat, 2, 1, "", -1},
		{"duplicate column", "cve,epss,epss,percentile\n", ErrSyntax, 1, 10, "epss", -1},
		{"comment after header", head + "#more\n", ErrSyntax, 4, 1, "", -1},
		{"line too long", head + "CVE-2024-0002," + strings.Repeat("0", 5000) + "\n", ErrTooLarge, 4, 1, "", -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, st, err := collectEPSS(Options{}, []byte(tc.doc))
			pe := asParseError(t, err, tc.cause)
			if pe.Line != tc.line || pe.Column != tc.column || pe.Field != tc.field || pe.Record != tc.record || pe.Feed != FeedEPSS {
				t.Errorf("got line %d column %d field %q record %d, want %d %d %q %d: %v",
					pe.Line, pe.Column, pe.Field, pe.Record, tc.line, tc.column, tc.field, tc.record, err)
			}
			checkPosition(t, []byte(tc.doc), pe)
			if strings.HasPrefix(tc.doc, head) && st.Records != 1 {
				t.Errorf("records before the error %d", st.Records)
			}
		})
	}
}

func TestEPSSSkipInvalid(t *testing.T) {
	doc := "cve,epss,percentile\nCVE-2024-0001,0.1,0.2\nCVE-2024-0002,2,0.2\nCVE-2024-0003,0.3\nCVE-2024-0004,0.4,0.5\n"
	rows, st, err := collectEPSS(Options{SkipInvalid: true}, []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[1].CVEID != "CVE-2024-0004" || st.Skipped != 2 || len(st.Warnings) != 2 {
		t.Fatalf("%+v %+v", rows, st)
	}
	if w := st.Warnings[0]; w.Code != WarnSkippedRecord || w.Record != 1 || w.Err.Line != 3 || w.Err.Field != "epss" {
		t.Errorf("%+v", w)
	}
}

func TestEPSSContextAndCallback(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("cve,epss,percentile\n")
	for range 5000 {
		b.WriteString("CVE-2024-0001,0.1,0.2\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := ParseEPSS(ctx, bytes.NewReader(b.Bytes()), func(EPSSScore) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n > 1100 {
		t.Fatalf("%v after %d rows", err, n)
	}
	stop := errors.New("stop")
	st, err := ParseEPSS(context.Background(), bytes.NewReader(b.Bytes()), func(EPSSScore) error { return stop })
	if err != stop || st.Records != 0 {
		t.Fatalf("%v %+v", err, st)
	}
}

func TestEPSSPositionsWithBOM(t *testing.T) {
	for _, doc := range []string{"\uFEFFcve,epss,epss\n", "\uFEFF#x", "\uFEFF#score_date:x\n", "\uFEFF" + strings.Repeat("c", 5000)} {
		_, _, err := collectEPSS(Options{}, []byte(doc))
		pe := asParseError(t, err, nil)
		checkPosition(t, []byte(doc), pe)
	}
}

// sumEPSS adds up the rows' probabilities, which the tests compare with awk's sum of the file.
func sumEPSS(rows []EPSSScore) float64 {
	var sum float64
	for _, r := range rows {
		sum += r.EPSS
	}
	return sum
}
