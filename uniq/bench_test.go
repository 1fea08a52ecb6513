package uniq

import (
	"context"
	"os"
	"testing"
)

// BenchmarkCountFile counts $HOTPATH_BENCH_FILE (the generated 1 GB file of
// bench/uniq) in each mode; it is skipped when the variable is unset, since
// generating the file takes a minute.
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
				if _, err := CountFile(context.Background(), path, m.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
