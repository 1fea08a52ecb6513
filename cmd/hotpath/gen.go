package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hotpath/hotpath/internal/gen"
	"github.com/schollz/progressbar/v3"
)

func init() {
	register(command{Name: "gen", Summary: "generate test data: a CSV file for uniq, photos for the image API", Run: runGen})
}

const genDescription = `Generates the data the README's walkthroughs and the benchmarks use,
deterministically: the same flags always give the same bytes.

  gen csv [--rows N] [--distinct-records R] [--distinct-users U] OUT
      a CSV file (id,user_id,country,url,amount,note) of N rows drawn from R
      distinct records with U distinct user_id values, with what trips naive
      counters: quoted commas ("Korea, Republic of"), ids quoted in some rows
      and bare in others, doubled quotes, and a newline inside quotes in one
      record of 5000. The counts a correct tool finds are printed on stderr
      and written to OUT.expected:
        records=R user_id=U lines=L physical_lines_total=T rows=N
      (lines: distinct physical lines with the header, as sort -u counts).
      OUT may be - for stdout (then no OUT.expected).

  gen photos [--count N] [--width W --height H] [--quality Q] DIR
      DIR/photo0.jpg … photo{N-1}.jpg: photo-like JPEGs (default 12 MP,
      about 3.7 MB at quality 90) with a camera photo's gradients, edges and
      noise, so they cost what photos cost to decode and encode. Existing
      files are kept (the same name always holds the same picture).`

func runGen(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "gen", "csv|photos [flags] OUT", genDescription)
	csvOpts, photoOpts := gen.DefaultCSVOptions(), gen.DefaultPhotoOptions()
	fs.IntVar(&csvOpts.Rows, "rows", csvOpts.Rows, "csv: data rows")
	fs.IntVar(&csvOpts.DistinctRecords, "distinct-records", csvOpts.DistinctRecords, "csv: distinct records (at most --rows)")
	fs.IntVar(&csvOpts.DistinctUsers, "distinct-users", csvOpts.DistinctUsers, "csv: distinct user_id values (at most --distinct-records)")
	count := fs.Int("count", 4, "photos: how many")
	fs.IntVar(&photoOpts.Width, "width", photoOpts.Width, "photos: width in pixels")
	fs.IntVar(&photoOpts.Height, "height", photoOpts.Height, "photos: height in pixels")
	fs.IntVar(&photoOpts.Quality, "quality", photoOpts.Quality, "photos: JPEG quality, 1-100")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), always, never")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return Usagef("want csv or photos (see 'hotpath gen --help')")
	}
	if len(pos) != 2 {
		return Usagef("%s wants one output, got %d arguments (see 'hotpath gen --help')", pos[0], len(pos)-1)
	}
	switch pos[0] {
	case "csv":
		if err := csvOpts.Validate(); err != nil {
			return Usagef("%v", err)
		}
		return genCSV(ctx, env, pos[1], csvOpts, showProgress(env, *progress))
	case "photos":
		if *count < 1 {
			return Usagef("--count must be at least 1")
		}
		if photoOpts.Width < 1 || photoOpts.Height < 1 || photoOpts.Quality < 1 || photoOpts.Quality > 100 {
			return Usagef("--width and --height must be positive and --quality 1-100")
		}
		paths, err := gen.WritePhotos(ctx, pos[1], *count, photoOpts)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stderr, "%d photos in %s\n", len(paths), pos[1])
		return nil
	}
	return Usagef("unknown kind %q: want csv or photos", pos[0])
}

// genCSV writes the CSV file to out (or stdout for "-") and its counts to
// out.expected. The file is written beside and renamed when complete, so a
// killed run leaves no partial file that a later run would take as made.
func genCSV(ctx context.Context, env *Env, out string, o gen.CSVOptions, bar bool) error {
	if bar {
		pb := progressbar.NewOptions(o.Rows, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetDescription("gen csv"),
			progressbar.OptionThrottle(100_000_000), progressbar.OptionClearOnFinish(), progressbar.OptionShowCount())
		o.Progress = func(rows int) { _ = pb.Set(rows) }
		defer pb.Finish()
	}
	if out == "-" {
		counts, err := gen.WriteCSV(ctx, env.Stdout, o)
		if err == nil {
			fmt.Fprintln(env.Stderr, counts)
		}
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after the rename, a no-op
	counts, err := gen.WriteCSV(ctx, f, o)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.WriteFile(out+".expected", []byte(counts.String()+"\n"), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), out)
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stderr, counts)
	return nil
}
