package gen

import (
	"bytes"
	"context"
	"crypto/sha256"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hotpath/hotpath/uniq"
)

// TestCSVCountsAreWhatACounterFinds generates a file and counts it with the
// uniq engine (tested on its own against Python and RFC 4180 references):
// the counts WriteCSV promises are the ones found.
func TestCSVCountsAreWhatACounterFinds(t *testing.T) {
	o := CSVOptions{Rows: 30_000, DistinctRecords: 20_000, DistinctUsers: 1_500}
	var buf bytes.Buffer
	counts, err := WriteCSV(context.Background(), &buf, o)
	if err != nil {
		t.Fatal(err)
	}
	data := buf.String()
	path := filepath.Join(t.TempDir(), "data.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	count := func(opts uniq.Options) int64 {
		t.Helper()
		res, err := uniq.CountFile(context.Background(), path, opts)
		if err != nil {
			t.Fatal(err)
		}
		return res.Columns[0].Distinct
	}
	if got := count(uniq.Options{}); got != counts.Lines {
		t.Errorf("distinct lines %d, promised %d", got, counts.Lines)
	}
	if got := count(uniq.Options{Columns: []string{"user_id"}}); got != counts.UserIDs || got != 1_500 {
		t.Errorf("distinct user_id %d, promised %d", got, counts.UserIDs)
	}
	if got := count(uniq.Options{Records: true}); got != counts.Records || got != 20_000 {
		t.Errorf("distinct records %d, promised %d", got, counts.Records)
	}
	if got := int64(strings.Count(data, "\n")); got != counts.PhysicalLines {
		t.Errorf("%d physical lines, promised %d", got, counts.PhysicalLines)
	}
	// What the benchmarks rely on: quoted commas, ids quoted in some rows
	// and bare in others, doubled quotes, newlines inside quotes.
	for _, want := range []string{`,"Korea, Republic of",`, `, ext",`, `"she said ""hi"" `, "\nsecond ", `,"hello, world"` + "\n", `,"u0000`} {
		if !strings.Contains(data, want) {
			t.Errorf("the file has no %q", want)
		}
	}
	if !strings.HasPrefix(data, CSVHeader) {
		t.Errorf("the file starts %.40q, not with the header", data)
	}
	var again bytes.Buffer
	if _, err := WriteCSV(context.Background(), &again, o); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
		t.Errorf("a second run wrote different bytes (%v)", err)
	}
}

func TestCSVOptionsValidate(t *testing.T) {
	for _, o := range []CSVOptions{{Rows: 10, DistinctRecords: 20, DistinctUsers: 5}, {Rows: 10, DistinctRecords: 5, DistinctUsers: 6}, {Rows: 10, DistinctRecords: 5}} {
		if _, err := WriteCSV(context.Background(), &bytes.Buffer{}, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// TestPhotos: a photo is a JPEG of the asked size, costs about what a camera
// photo costs per pixel (a flat picture would compress to a few KB), and the
// same name always holds the same bytes.
func TestPhotos(t *testing.T) {
	dir := t.TempDir()
	o := PhotoOptions{Width: 800, Height: 600, Quality: 90}
	paths, err := WritePhotos(context.Background(), dir, 2, o)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[[32]byte]bool{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != 800 || cfg.Height != 600 {
			t.Fatalf("%s: %+v, %v; want an 800×600 JPEG", p, cfg, err)
		}
		if perPixel := float64(len(b)) / (800 * 600); perPixel < 0.2 {
			t.Errorf("%s: %.2f bytes per pixel; a 12 MP photo of 3.7 MB has 0.3", p, perPixel)
		}
		sums[sha256.Sum256(b)] = true
	}
	if len(sums) != 2 {
		t.Error("photo0 and photo1 are the same picture")
	}
	var again bytes.Buffer
	if err := WritePhoto(&again, 1, o); err != nil {
		t.Fatal(err)
	}
	if !sums[sha256.Sum256(again.Bytes())] {
		t.Error("photo 1 made again has other bytes")
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".photo*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}
