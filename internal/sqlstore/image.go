package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/hotpath/hotpath"
)

// CreateImage records img and its variants in one transaction: all of them or
// none. It fills an empty ID, a zero CreatedAt, an empty Status (ready) and
// each variant's ImageID and CreatedAt. A taken ID or two variants of one name
// are ECONFLICT, an unknown tenant ENOTFOUND.
func (s *Queries) CreateImage(ctx context.Context, img *hotpath.Image) error {
	if err := s.Clock.PrepareImage(img); err != nil {
		return err
	}
	err := InTx(ctx, s.Writer, nil, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.Dialect.Rebind(`INSERT INTO images (id, tenant_id, filename, format, width, height, bytes, sha256, status, error, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			img.ID, img.TenantID, img.Filename, string(img.Format), img.Width, img.Height, img.Bytes, img.SHA256,
			string(img.Status), img.Error, s.Dialect.TimeArg(img.CreatedAt))
		if err != nil {
			return err
		}
		for i := range img.Variants {
			if err := s.insertVariant(ctx, tx, &img.Variants[i], false); err != nil {
				return err
			}
		}
		return nil
	})
	return s.Dialect.Err(err, "create image", "", "tenant not found")
}

// insertVariant inserts v; with upsert, a variant of the same image and name
// is replaced in place.
func (s *Queries) insertVariant(ctx context.Context, tx *sql.Tx, v *hotpath.Variant, upsert bool) error {
	q := `INSERT INTO variants (image_id, name, format, width, height, bytes, blob_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	if upsert {
		q += ` ON CONFLICT (image_id, name) DO UPDATE SET format = excluded.format, width = excluded.width,
			height = excluded.height, bytes = excluded.bytes, blob_key = excluded.blob_key, created_at = excluded.created_at`
	}
	_, err := tx.ExecContext(ctx, s.Dialect.Rebind(q), v.ImageID, v.Name, string(v.Format), v.Width, v.Height, v.Bytes, v.BlobKey, s.Dialect.TimeArg(v.CreatedAt))
	return err
}

const imageColumns = "id, tenant_id, filename, format, width, height, bytes, sha256, status, error, created_at"

func scanImage(row interface{ Scan(dest ...any) error }) (*hotpath.Image, error) {
	var img hotpath.Image
	var format, status string
	err := row.Scan(&img.ID, &img.TenantID, &img.Filename, &format, &img.Width, &img.Height, &img.Bytes,
		&img.SHA256, &status, &img.Error, Time{&img.CreatedAt})
	if err != nil {
		return nil, err
	}
	img.Format = hotpath.Format(format)
	img.Status = hotpath.ImageStatus(status)
	img.Variants = []hotpath.Variant{}
	return &img, nil
}

const variantColumns = "image_id, name, format, width, height, bytes, blob_key, created_at"

func scanVariant(row interface{ Scan(dest ...any) error }) (hotpath.Variant, error) {
	var v hotpath.Variant
	var format string
	if err := row.Scan(&v.ImageID, &v.Name, &format, &v.Width, &v.Height, &v.Bytes, &v.BlobKey, Time{&v.CreatedAt}); err != nil {
		return v, err
	}
	v.Format = hotpath.Format(format)
	return v, nil
}

// GetImage returns the tenant's image with its preset variants (not its stored transforms) in the order they were added; tenantID "" finds it whatever its tenant (transform URLs).
func (s *Queries) GetImage(ctx context.Context, tenantID, id string) (*hotpath.Image, error) {
	var img *hotpath.Image
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		img, err = scanImage(tx.QueryRowContext(ctx, s.Dialect.Rebind("SELECT "+imageColumns+" FROM images WHERE (? = '' OR tenant_id = ?) AND id = ?"), tenantID, tenantID, id))
		if err != nil {
			return err
		}
		return s.loadVariants(ctx, tx, []*hotpath.Image{img})
	})
	if err != nil {
		return nil, s.Dialect.Err(err, "get image", "image not found", "")
	}
	return img, nil
}

// loadVariants fills the Variants of images with one query. Stored transform
// results (names "t:…") are left out: they grow without bound per image, and
// GetVariant finds each of them.
func (s *Queries) loadVariants(ctx context.Context, tx *sql.Tx, images []*hotpath.Image) error {
	if len(images) == 0 {
		return nil
	}
	byID := make(map[string]*hotpath.Image, len(images))
	args := make([]any, len(images))
	for i, img := range images {
		byID[img.ID] = img
		args[i] = img.ID
	}
	rows, err := tx.QueryContext(ctx, s.Dialect.Rebind("SELECT "+variantColumns+" FROM variants WHERE image_id IN ("+
		placeholders(len(images))+") AND substr(name, 1, 2) <> 't:' ORDER BY seq"), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scanVariant(rows)
		if err != nil {
			return err
		}
		img := byID[v.ImageID]
		img.Variants = append(img.Variants, v)
	}
	return rows.Err()
}

// ListImages returns up to limit of the tenant's images with IDs below
// cursor, newest first (IDs sort by creation time). NextCursor is set only
// when more images follow.
func (s *Queries) ListImages(ctx context.Context, tenantID, cursor string, limit int) (*hotpath.ImagePage, error) {
	limit = PageLimit(limit)
	page := &hotpath.ImagePage{Images: []*hotpath.Image{}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.Dialect.Rebind("SELECT "+imageColumns+` FROM images
			WHERE tenant_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`), tenantID, cursor, cursor, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			img, err := scanImage(rows)
			if err != nil {
				return err
			}
			page.Images = append(page.Images, img)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(page.Images) > limit {
			page.Images = page.Images[:limit]
			page.NextCursor = page.Images[limit-1].ID
		}
		return s.loadVariants(ctx, tx, page.Images)
	})
	if err != nil {
		return nil, s.Dialect.Err(err, "list images", "", "")
	}
	return page, nil
}

// DeleteImage removes the tenant's image; its variants and transforms go with
// it (ON DELETE CASCADE).
func (s *Queries) DeleteImage(ctx context.Context, tenantID, id string) error {
	res, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind("DELETE FROM images WHERE tenant_id = ? AND id = ?"), tenantID, id)
	if err != nil {
		return s.Dialect.Err(err, "delete image", "", "")
	}
	return MustAffect(res, "image not found")
}

// UpdateImageStatus sets the status and error text of the tenant's image.
func (s *Queries) UpdateImageStatus(ctx context.Context, tenantID, id string, status hotpath.ImageStatus, errText string) error {
	res, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind("UPDATE images SET status = ?, error = ? WHERE tenant_id = ? AND id = ?"),
		string(status), errText, tenantID, id)
	if err != nil {
		return s.Dialect.Err(err, "update image status", "", "")
	}
	return MustAffect(res, "image not found")
}

// PutVariant records v, replacing the variant of the same image and name, so
// a redelivered job never adds a second one. The image must exist (ENOTFOUND).
func (s *Queries) PutVariant(ctx context.Context, v *hotpath.Variant) error {
	v.CreatedAt = s.Clock.Stamp(v.CreatedAt)
	err := InTx(ctx, s.Writer, nil, func(tx *sql.Tx) error { return s.insertVariant(ctx, tx, v, true) })
	return s.Dialect.Err(err, "put variant", "", "image not found")
}

// GetVariant returns the variant name of the image.
func (s *Queries) GetVariant(ctx context.Context, imageID, name string) (*hotpath.Variant, error) {
	v, err := scanVariant(s.Reader.QueryRowContext(ctx,
		s.Dialect.Rebind("SELECT "+variantColumns+" FROM variants WHERE image_id = ? AND name = ?"), imageID, name))
	if err != nil {
		return nil, s.Dialect.Err(err, "get variant", "variant not found", "")
	}
	return &v, nil
}

// placeholders returns "?, ?, ?" for n parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
