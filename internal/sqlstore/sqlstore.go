// Package sqlstore holds what the SQL metadata stores (sqlite, postgres)
// share apart from SQL itself: loading numbered migrations, and the defaults
// and normalisation every Create applies before writing, so that both stores
// behave the same under hotpathtest.TestMetadataStore.
package sqlstore

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hotpath/hotpath"
)

// Listing bounds of ListImages: a limit of 0 or less means DefaultPageSize.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// PageLimit returns the page size to use for a requested limit.
func PageLimit(limit int) int {
	if limit <= 0 {
		return DefaultPageSize
	}
	return min(limit, MaxPageSize)
}

// Migration is one numbered schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// LoadMigrations returns the files dir/NNNN_what.sql of fsys in version
// order, refusing misnamed files and duplicate versions.
func LoadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	paths, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, p := range paths {
		name := path.Base(p)
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration %s is not named NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: version, Name: name, SQL: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("two migrations numbered %d", out[i].Version)
		}
	}
	return out, nil
}

// Clock stamps times the way the stores keep them.
type Clock struct {
	Now func() time.Time // time.Now when nil
}

// Stamp returns t as it reads back from a store: UTC, whole microseconds
// (PostgreSQL's precision); a zero t becomes now.
func (c Clock) Stamp(t time.Time) time.Time {
	if t.IsZero() {
		if c.Now != nil {
			t = c.Now()
		} else {
			t = time.Now()
		}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// PrepareTenant fills an empty ID and stamps CreatedAt.
func (c Clock) PrepareTenant(t *hotpath.Tenant) {
	if t.ID == "" {
		t.ID = hotpath.NewID()
	}
	t.CreatedAt = c.Stamp(t.CreatedAt)
}

// PrepareAPIKey fills an empty ID and stamps the times; a key needs a hash.
func (c Clock) PrepareAPIKey(k *hotpath.APIKey) error {
	if len(k.Hash) == 0 {
		return hotpath.Errorf(hotpath.EINVALID, "API key without a hash")
	}
	if k.ID == "" {
		k.ID = hotpath.NewID()
	}
	k.CreatedAt = c.Stamp(k.CreatedAt)
	if k.RevokedAt != nil {
		at := c.Stamp(*k.RevokedAt)
		k.RevokedAt = &at
	}
	return nil
}

// PrepareImage fills an empty ID, an empty Status (ready) and each variant's
// ImageID, and stamps the times (a variant without one takes the image's).
// A variant that names another image is EINVALID.
func (c Clock) PrepareImage(img *hotpath.Image) error {
	if img.ID == "" {
		img.ID = hotpath.NewID()
	}
	if img.Status == "" {
		img.Status = hotpath.ImageReady
	}
	img.CreatedAt = c.Stamp(img.CreatedAt)
	for i := range img.Variants {
		v := &img.Variants[i]
		if v.ImageID != "" && v.ImageID != img.ID {
			return hotpath.Errorf(hotpath.EINVALID, "variant %s belongs to image %s, not %s", v.Name, v.ImageID, img.ID)
		}
		v.ImageID = img.ID
		if v.CreatedAt.IsZero() {
			v.CreatedAt = img.CreatedAt
		}
		v.CreatedAt = c.Stamp(v.CreatedAt)
	}
	return nil
}

// PrepareJob fills an empty ID and State (queued) and stamps the times; a
// zero UpdatedAt is CreatedAt.
func (c Clock) PrepareJob(j *hotpath.Job) {
	if j.ID == "" {
		j.ID = hotpath.NewID()
	}
	if j.State == "" {
		j.State = hotpath.JobQueued
	}
	j.CreatedAt = c.Stamp(j.CreatedAt)
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	j.UpdatedAt = c.Stamp(j.UpdatedAt)
}

// PrepareBatch fills an empty ID and stamps CreatedAt; a negative Total is EINVALID.
func (c Clock) PrepareBatch(b *hotpath.Batch) error {
	if b.Total < 0 {
		return hotpath.Errorf(hotpath.EINVALID, "batch total %d is negative", b.Total)
	}
	if b.ID == "" {
		b.ID = hotpath.NewID()
	}
	b.CreatedAt = c.Stamp(b.CreatedAt)
	return nil
}

// CountState adds n jobs in state to the batch's counters.
func CountState(b *hotpath.Batch, state hotpath.JobState, n int) {
	switch state {
	case hotpath.JobQueued:
		b.Queued += n
	case hotpath.JobRunning:
		b.Running += n
	case hotpath.JobSucceeded:
		b.Succeeded += n
	case hotpath.JobFailed:
		b.Failed += n
	}
}
