package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/hotpath/hotpath/uniq"
)

// printGroups prints a per-group count as text: a line per group with the
// group's value, its distinct values, its rows and their percent of all
// rows, tab-separated; the value is quoted when it holds a tab or a newline.
func printGroups(w io.Writer, c uniq.ColumnResult) {
	for _, g := range c.Groups {
		v := g.Group
		if strconv.Quote(v) != `"`+v+`"` {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%.2f%%\n", v, g.Distinct, g.Rows, g.Percent)
	}
}

// printResultCSV prints a result as CSV: "column,distinct" a row per
// column; with top values "column,distinct,value,count,percent" a row per
// value; per group "<group columns>,distinct,rows,percent" a row per group.
func printResultCSV(w io.Writer, res *uniq.Result) error {
	cw := csv.NewWriter(w)
	f := func(n int64) string { return strconv.FormatInt(n, 10) }
	pct := func(p float64) string { return strconv.FormatFloat(p, 'f', 4, 64) }
	hasTop := false
	for _, c := range res.Columns {
		hasTop = hasTop || len(c.Top) > 0
	}
	for i, c := range res.Columns {
		switch {
		case c.By != "":
			_ = cw.Write([]string{c.By, "distinct", "rows", "percent"})
			for _, g := range c.Groups {
				_ = cw.Write([]string{g.Group, f(g.Distinct), f(g.Rows), pct(g.Percent)})
			}
		case hasTop:
			if i == 0 {
				_ = cw.Write([]string{"column", "distinct", "value", "count", "percent"})
			}
			for _, vc := range c.Top {
				_ = cw.Write([]string{c.Name, f(c.Distinct), vc.Value, f(vc.Count), pct(vc.Percent)})
			}
			if len(c.Top) == 0 {
				_ = cw.Write([]string{c.Name, f(c.Distinct), "", "", ""})
			}
		default:
			if i == 0 {
				_ = cw.Write([]string{"column", "distinct"})
			}
			d := f(c.Distinct)
			if c.Approx {
				d = "~" + d
			}
			_ = cw.Write([]string{c.Name, d})
		}
	}
	cw.Flush()
	return cw.Error()
}
