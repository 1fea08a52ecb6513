package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/disk"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
	"github.com/hotpath/hotpath/pipeline"
	"github.com/hotpath/hotpath/sqlite"
)

const testTenant = "t1"

// newService returns a Service over a real disk store, SQLite and libvips in
// a temp dir, with the blob root's path.
func newService(t *testing.T) (*pipeline.Service, string) {
	t.Helper()
	dir := t.TempDir()
	blobs, err := disk.Open(context.Background(), filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	meta, err := sqlite.Open(context.Background(), filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	if err := meta.CreateTenant(context.Background(), &hotpath.Tenant{ID: testTenant, Name: testTenant}); err != nil {
		t.Fatal(err)
	}
	cfg := pipeline.DefaultConfig()
	cfg.Workers, cfg.TempDir = 1, t.TempDir()
	svc, err := pipeline.New(cfg, blobs, meta, imagetest.ImageEngine(t), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc, filepath.Join(dir, "blobs")
}

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func TestIngestStoresOriginalVariantsAndMetadata(t *testing.T) {
	svc, root := newService(t)
	ctx := context.Background()
	path := imagetest.WriteImage(t, "in.jpg", imagetest.Image(t, hotpath.FormatJPEG, 1000, 500))
	img, err := svc.Ingest(ctx, testTenant, "../../etc/in.jpg", path)
	if err != nil {
		t.Fatal(err)
	}
	if img.Filename != "in.jpg" || img.Width != 1000 || img.Height != 500 || len(img.SHA256) != 64 {
		t.Errorf("image = %+v", img)
	}
	got, err := svc.Meta.GetImage(ctx, testTenant, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantSides := map[string][2]int{"thumb": {200, 100}, "medium": {800, 400}, "large": {1000, 500}}
	for _, v := range got.Variants {
		if want := wantSides[v.Name]; v.Width != want[0] || v.Height != want[1] {
			t.Errorf("variant %s is %d×%d, want %v", v.Name, v.Width, v.Height, want)
		}
	}
	if len(got.Variants) != 3 || countFiles(t, root) != 4 {
		t.Errorf("%d variants recorded, %d blobs on disk; want 3 and 4", len(got.Variants), countFiles(t, root))
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Ingest removed the caller's file: %v", err)
	}

	// GenerateVariants is idempotent: again, the same variants, not more.
	again, err := svc.GenerateVariants(ctx, testTenant, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = svc.Meta.GetImage(ctx, testTenant, img.ID)
	if len(again.Variants) != 3 || len(got.Variants) != 3 || countFiles(t, root) != 4 {
		t.Errorf("after GenerateVariants: %d variants, %d blobs; want 3 and 4", len(got.Variants), countFiles(t, root))
	}

	if err := svc.Delete(ctx, testTenant, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Meta.GetImage(ctx, testTenant, img.ID); !hotpath.IsNotFound(err) {
		t.Errorf("after Delete, GetImage: %v, want not found", err)
	}
	if n := countFiles(t, root); n != 0 {
		t.Errorf("after Delete %d blobs remain", n)
	}
}

func TestIngestRefusesBeforeDecoding(t *testing.T) {
	svc, root := newService(t)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", []byte{}, hotpath.EINVALID},
		{"not an image", []byte("hello, world"), hotpath.EUNSUPPORTED},
		{"100000×100000 PNG header", imagetest.PNGHeader(100000, 100000), hotpath.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := imagetest.WriteImage(t, "in", tt.data)
			_, err := svc.Ingest(context.Background(), testTenant, "x", path)
			if got := hotpath.ErrorCode(err); got != tt.want {
				t.Errorf("code %q (%v), want %q", got, err, tt.want)
			}
		})
	}
	if n := countFiles(t, root); n != 0 {
		t.Errorf("refused uploads left %d blobs", n)
	}
}

// TestMetadataFailureRemovesBlobs makes the metadata write fail for real
// (the store is closed) and checks that no blob of the upload is left.
func TestMetadataFailureRemovesBlobs(t *testing.T) {
	svc, root := newService(t)
	svc.Meta.Close()
	path := imagetest.WriteImage(t, "in.jpg", imagetest.Image(t, hotpath.FormatJPEG, 64, 64))
	if _, err := svc.Ingest(context.Background(), testTenant, "in.jpg", path); err == nil {
		t.Fatal("Ingest succeeded with a closed metadata store")
	}
	if n := countFiles(t, root); n != 0 {
		t.Errorf("%d blobs left behind after the metadata write failed", n)
	}
}

// TestBlobFailureWritesNoMetadata makes blob writes fail for real (a file
// sits where the tenant's directory must go) and checks nothing is recorded.
func TestBlobFailureWritesNoMetadata(t *testing.T) {
	svc, root := newService(t)
	if err := os.WriteFile(filepath.Join(root, testTenant), []byte("in the way"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := imagetest.WriteImage(t, "in.jpg", imagetest.Image(t, hotpath.FormatJPEG, 64, 64))
	if _, err := svc.Ingest(context.Background(), testTenant, "in.jpg", path); err == nil {
		t.Fatal("Ingest succeeded though no blob can be written")
	}
	page, err := svc.Meta.ListImages(context.Background(), testTenant, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Images) != 0 {
		t.Errorf("%d images recorded after the blob write failed", len(page.Images))
	}
}
