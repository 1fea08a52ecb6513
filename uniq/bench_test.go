package uniq

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"testing"
)

// BenchmarkEngine counts a generated in-memory CSV (~20 MB, like
// `hotpath gen csv`'s) with the engine and, side by side, with the naive Go a user
// would write (bufio + map for lines, encoding/csv + map for a column), so
// the figures read as ratios measured in the same run.
func BenchmarkEngine(b *testing.B) {
	data := []byte(genCSV(400000, 300000, 20000))
	path := b.TempDir() + "/bench.csv"
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, m := range []struct {
		name string
		run  func() int64
	}{
		{"lines/hotpath", func() int64 { return mustCount(b, ctx, path, Options{}) }},
		{"lines/naive", func() int64 {
			set := map[string]struct{}{}
			sc := bufio.NewScanner(bytes.NewReader(data))
			for sc.Scan() {
				set[string(bytes.TrimSpace(sc.Bytes()))] = struct{}{}
			}
			return int64(len(set))
		}},
		{"user_id/hotpath", func() int64 { return mustCount(b, ctx, path, Options{Columns: []string{"user_id"}}) }},
		{"user_id/naive", func() int64 {
			set := map[string]struct{}{}
			r := csv.NewReader(bytes.NewReader(data))
			r.FieldsPerRecord = -1
			r.ReuseRecord = true
			r.Read() // header
			for {
				rec, err := r.Read()
				if err != nil {
					break
				}
				set[rec[1]] = struct{}{}
			}
			return int64(len(set))
		}},
		{"records/hotpath", func() int64 { return mustCount(b, ctx, path, Options{Records: true}) }},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if m.run() == 0 {
					b.Fatal("counted nothing")
				}
			}
		})
	}
}

func mustCount(b *testing.B, ctx context.Context, path string, opts Options) int64 {
	res, err := CountFile(ctx, path, opts)
	if err != nil {
		b.Fatal(err)
	}
	return res.Columns[0].Distinct
}

// BenchmarkCountFile counts $HOTPATH_BENCH_FILE (the generated 1 GB file of
// bench/uniq/run.sh) in each mode; it is skipped when the variable is unset,
// since generating the file takes a minute.
func BenchmarkCountFile(b *testing.B) {
	path := os.Getenv("HOTPATH_BENCH_FILE")
	if path == "" {
		b.Skip("HOTPATH_BENCH_FILE is not set (see bench/uniq/run.sh)")
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		opts Options
	}{
		{"lines", Options{}},
		{"user_id", Options{Columns: []string{"user_id"}}},
		{"records", Options{Records: true}},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.SetBytes(st.Size())
			for b.Loop() {
				mustCount(b, context.Background(), path, m.opts)
			}
		})
	}
}
