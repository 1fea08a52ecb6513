// Package gen makes the data the README, the tests and the benchmarks run
// on, so that a fresh clone needs nothing from outside: deterministic CSV
// files with the quoting that trips naive distinct counters, and photo-like
// JPEGs that cost what camera photos cost to decode and encode.
package gen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
)

// CSVOptions size a generated CSV file.
type CSVOptions struct {
	Rows            int // data rows (the header is extra)
	DistinctRecords int // distinct data records; every one appears when Rows >= DistinctRecords
	DistinctUsers   int // distinct user_id values; every one appears when DistinctRecords >= DistinctUsers
	// Progress, when set, is called with the rows written so far.
	Progress func(rows int)
}

// DefaultCSVOptions is the benchmarks' file: 20 M rows, about 1 GB.
func DefaultCSVOptions() CSVOptions {
	return CSVOptions{Rows: 20_000_000, DistinctRecords: 16_000_000, DistinctUsers: 1_000_000}
}

// CSVCounts are the answers a correct counter gives for a generated file.
type CSVCounts struct {
	Records       int64 // distinct data records (header excluded)
	UserIDs       int64 // distinct user_id values after RFC 4180 parsing (header excluded)
	Lines         int64 // distinct physical lines, header included (sort -u | wc -l)
	PhysicalLines int64 // physical lines written, header included
	Rows          int64 // data rows
}

// String writes the counts as gen_csv.py's OUT.expected line does:
// "records=K user_id=U lines=L physical_lines_total=T rows=N".
func (c CSVCounts) String() string {
	return fmt.Sprintf("records=%d user_id=%d lines=%d physical_lines_total=%d rows=%d",
		c.Records, c.UserIDs, c.Lines, c.PhysicalLines, c.Rows)
}

// Validate reports options no file can satisfy.
func (o CSVOptions) Validate() error {
	if !(o.Rows >= o.DistinctRecords && o.DistinctRecords >= o.DistinctUsers && o.DistinctUsers >= 1) {
		return fmt.Errorf("need rows >= distinct records >= distinct users >= 1, got %d, %d, %d",
			o.Rows, o.DistinctRecords, o.DistinctUsers)
	}
	return nil
}

// countries are the country column's values; "Korea, Republic of" is quoted.
var countries = []string{"US", "DE", "FR", "GB", "JP", "CN", "IN", "BR", "CA", "AU",
	"ES", "IT", "NL", "SE", "NO", "PL", "MX", "AR", "ZA", "NG",
	"KR", `"Korea, Republic of"`, "TR", "EG", "ID", "VN", "TH", "PH",
	"CH", "AT", "BE", "DK", "FI", "IE", "PT", "GR", "CZ", "HU",
	"RO", "IL", "SA", "AE", "SG", "MY", "NZ", "CL", "CO", "PE"}

// CSVHeader is the first line of every generated file.
const CSVHeader = "id,user_id,country,url,amount,note\n"

// WriteCSV writes a CSV file of id,user_id,country,url,amount,note rows and
// returns what a correct count of it finds. The same options give the same
// bytes (those of the benchmarks' earlier generator, gen_csv.py):
//
//   - row i carries record k = i·P mod K (P coprime to K): for Rows >= K every
//     record appears, duplicates scattered through the file;
//   - record k's user is u = k·A mod U (A coprime to U), written u%07d; when
//     u % 97 == 0 it is "u%07d, ext" (a comma, so quoted), and about one
//     record in ten quotes a plain id anyway: "u0000123" and u0000123 are one
//     value after RFC 4180 parsing, which quote-unaware tools count twice;
//   - the country "Korea, Republic of" is quoted for its comma;
//   - the note is empty, or "hello, world" (k % 20 == 0), or holds doubled
//     quotes (k % 1000 == 2), or a newline (k % 5000 == 1): that record spans
//     two physical lines, the second 'second J"' for J = k % 11.
//
// Rows are made on every core in blocks and written in order.
func WriteCSV(ctx context.Context, w io.Writer, o CSVOptions) (CSVCounts, error) {
	if err := o.Validate(); err != nil {
		return CSVCounts{}, err
	}
	g := csvGen{
		k: int64(o.DistinctRecords), u: int64(o.DistinctUsers),
		p: coprimeNear(int64(o.DistinctRecords), 2654435761),
		a: coprimeNear(int64(o.DistinctUsers), 40503),
	}
	counts := CSVCounts{Records: g.k, UserIDs: g.u, Rows: int64(o.Rows), PhysicalLines: 1}
	seconds := map[int64]bool{}
	for k := int64(1); k < g.k; k += 5000 {
		seconds[k%11] = true
	}
	counts.Lines = 1 + g.k + int64(len(seconds))

	bw := bufio.NewWriterSize(w, 1<<20)
	if _, err := bw.WriteString(CSVHeader); err != nil {
		return counts, err
	}
	const blockRows = 1 << 16
	type block struct {
		data  []byte
		lines int64
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// An ordered pipeline: the producer hands each block to a worker and
	// queues the block's result channel, so blocks are made on every core
	// and written in order.
	type job struct {
		start int64
		out   chan block
	}
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan job)
	results := make(chan chan block, workers*2)
	go func() {
		defer close(jobs)
		defer close(results)
		for start := int64(0); start < int64(o.Rows); start += blockRows {
			out := make(chan block, 1)
			select {
			case results <- out:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- job{start, out}:
			case <-ctx.Done():
				return
			}
		}
	}()
	for range workers {
		go func() {
			for j := range jobs {
				end := min(j.start+blockRows, int64(o.Rows))
				buf := make([]byte, 0, (end-j.start)*56)
				var lines int64
				for i := j.start; i < end; i++ {
					var multi bool
					buf, multi = g.appendRecord(buf, i*g.p%g.k)
					lines++
					if multi {
						lines++
					}
				}
				j.out <- block{buf, lines}
			}
		}()
	}
	var written int64
	for out := range results {
		var b block
		select {
		case b = <-out:
		case <-ctx.Done():
			return counts, ctx.Err()
		}
		if _, err := bw.Write(b.data); err != nil {
			return counts, err
		}
		counts.PhysicalLines += b.lines
		written = min(written+blockRows, int64(o.Rows))
		if o.Progress != nil {
			o.Progress(int(written))
		}
	}
	if err := ctx.Err(); err != nil {
		return counts, err
	}
	return counts, bw.Flush()
}

// csvGen holds the constants of one file.
type csvGen struct{ k, u, p, a int64 }

// appendRecord appends record k's line(s) and says whether it spans two.
func (g csvGen) appendRecord(b []byte, k int64) ([]byte, bool) {
	uid := k * g.a % g.u
	b = strconv.AppendInt(b, k+1, 10)
	b = append(b, ',')
	switch {
	case uid%97 == 0:
		b = append(b, '"')
		b = appendUser(b, uid)
		b = append(b, ", ext\""...)
	case (uint64(k)*2654435761&0xFFFFFFFF)%10 == 3:
		b = append(b, '"')
		b = appendUser(b, uid)
		b = append(b, '"')
	default:
		b = appendUser(b, uid)
	}
	b = append(b, ',')
	b = append(b, countries[k*7%int64(len(countries))]...)
	b = append(b, ",https://ex.com/p/"...)
	b = strconv.AppendInt(b, k%50000, 10)
	b = append(b, ',')
	b = strconv.AppendInt(b, k*37%1000, 10)
	b = append(b, '.')
	if k%100 < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, k%100, 10)
	b = append(b, ',')
	multi := false
	switch {
	case k%5000 == 1:
		b = append(b, "\"first "...)
		b = strconv.AppendInt(b, k%3, 10)
		b = append(b, "\nsecond "...)
		b = strconv.AppendInt(b, k%11, 10)
		b = append(b, '"')
		multi = true
	case k%1000 == 2:
		b = append(b, `"she said ""hi"" `...)
		b = strconv.AppendInt(b, k%7, 10)
		b = append(b, '"')
	case k%20 == 0:
		b = append(b, `"hello, world"`...)
	}
	return append(b, '\n'), multi
}

// appendUser appends u%07d.
func appendUser(b []byte, uid int64) []byte {
	b = append(b, 'u')
	for d := int64(1_000_000); d > 1 && uid < d; d /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, uid, 10)
}

// coprimeNear returns the first x >= max(1, x mod n) coprime to n (1 for n <= 1).
func coprimeNear(n, x int64) int64 {
	if n <= 1 {
		return 1
	}
	x = max(1, x%n)
	for gcd(x, n) != 1 {
		x++
	}
	return x
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
