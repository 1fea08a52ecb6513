package sqlite

import (
	"context"
	"database/sql"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/internal/sqlstore"
)

// CreateImage records img and its variants in one transaction: all of them or
// none. It fills an empty ID, a zero CreatedAt, an empty Status (ready) and
// each variant's ImageID and CreatedAt. A taken ID or two variants of one name
// are ECONFLICT, an unknown tenant ENOTFOUND.
func (s *Store) CreateImage(ctx context.Context, img *hotpath.Image) error {
	if err := s.clock.PrepareImage(img); err != nil {
		return err
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO images (id, tenant_id, filename, format, width, height, bytes, sha256, status, error, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			img.ID, img.TenantID, img.Filename, string(img.Format), img.Width, img.Height, img.Bytes, img.SHA256,
			string(img.Status), img.Error, micros(img.CreatedAt))
		if err != nil {
			return err
		}
		for i := range img.Variants {
			if err := insertVariant(ctx, tx, &img.Variants[i], false); err != nil {
				return err
			}
		}
		return nil
	})
	return dbError(err, "create image", "", "tenant not found")
}

// insertVariant inserts v; with upsert, a variant of the same image and name
// is replaced in place.
func insertVariant(ctx context.Context, tx *sql.Tx, v *hotpath.Variant, upsert bool) error {
	q := `INSERT INTO variants (image_id, name, format, width, height, bytes, blob_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	if upsert {
		q += ` ON CONFLICT (image_id, name) DO UPDATE SET format = excluded.format, width = excluded.width,
			height = excluded.height, bytes = excluded.bytes, blob_key = excluded.blob_key, created_at = excluded.created_at`
	}
	_, err := tx.ExecContext(ctx, q, v.ImageID, v.Name, string(v.Format), v.Width, v.Height, v.Bytes, v.BlobKey, micros(v.CreatedAt))
	return err
}

const imageColumns = "id, tenant_id, filename, format, width, height, bytes, sha256, status, error, created_at"

func scanImage(row scanner) (*hotpath.Image, error) {
	var img hotpath.Image
	var format, status string
	var created int64
	err := row.Scan(&img.ID, &img.TenantID, &img.Filename, &format, &img.Width, &img.Height, &img.Bytes,
		&img.SHA256, &status, &img.Error, &created)
	if err != nil {
		return nil, err
	}
	img.Format = hotpath.Format(format)
	img.Status = hotpath.ImageStatus(status)
	img.CreatedAt = fromMicros(created)
	img.Variants = []hotpath.Variant{}
	return &img, nil
}

const variantColumns = "image_id, name, format, width, height, bytes, blob_key, created_at"

func scanVariant(row scanner) (hotpath.Variant, error) {
	var v hotpath.Variant
	var format string
	var created int64
	if err := row.Scan(&v.ImageID, &v.Name, &format, &v.Width, &v.Height, &v.Bytes, &v.BlobKey, &created); err != nil {
		return v, err
	}
	v.Format = hotpath.Format(format)
	v.CreatedAt = fromMicros(created)
	return v, nil
}

// GetImage returns the tenant's image with its preset variants (not its stored transforms) in the order they were added; tenantID "" finds it whatever its tenant (transform URLs).
func (s *Store) GetImage(ctx context.Context, tenantID, id string) (*hotpath.Image, error) {
	var img *hotpath.Image
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		img, err = scanImage(tx.QueryRowContext(ctx, "SELECT "+imageColumns+" FROM images WHERE (? = '' OR tenant_id = ?) AND id = ?", tenantID, tenantID, id))
		if err != nil {
			return err
		}
		return loadVariants(ctx, tx, []*hotpath.Image{img})
	})
	if err != nil {
		return nil, dbError(err, "get image", "image not found", "")
	}
	return img, nil
}

// loadVariants fills the Variants of images with one query. Stored transform
// results (names "t:…") are left out: they grow without bound per image, and
// GetVariant finds each of them.
func loadVariants(ctx context.Context, tx *sql.Tx, images []*hotpath.Image) error {
	if len(images) == 0 {
		return nil
	}
	byID := make(map[string]*hotpath.Image, len(images))
	args := make([]any, len(images))
	for i, img := range images {
		byID[img.ID] = img
		args[i] = img.ID
	}
	rows, err := tx.QueryContext(ctx, "SELECT "+variantColumns+" FROM variants WHERE image_id IN ("+
		placeholders(len(images))+") AND substr(name, 1, 2) <> 't:' ORDER BY seq", args...)
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
func (s *Store) ListImages(ctx context.Context, tenantID, cursor string, limit int) (*hotpath.ImagePage, error) {
	limit = sqlstore.PageLimit(limit)
	page := &hotpath.ImagePage{Images: []*hotpath.Image{}}
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT "+imageColumns+` FROM images
			WHERE tenant_id = ? AND (? = '' OR id < ?) ORDER BY id DESC LIMIT ?`, tenantID, cursor, cursor, limit+1)
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
		return loadVariants(ctx, tx, page.Images)
	})
	if err != nil {
		return nil, dbError(err, "list images", "", "")
	}
	return page, nil
}

// DeleteImage removes the tenant's image; its variants and transforms go with
// it (ON DELETE CASCADE).
func (s *Store) DeleteImage(ctx context.Context, tenantID, id string) error {
	res, err := s.writer.ExecContext(ctx, "DELETE FROM images WHERE tenant_id = ? AND id = ?", tenantID, id)
	if err != nil {
		return dbError(err, "delete image", "", "")
	}
	return sqlstore.MustAffect(res, "image not found")
}

// UpdateImageStatus sets the status and error text of the tenant's image.
func (s *Store) UpdateImageStatus(ctx context.Context, tenantID, id string, status hotpath.ImageStatus, errText string) error {
	res, err := s.writer.ExecContext(ctx, "UPDATE images SET status = ?, error = ? WHERE tenant_id = ? AND id = ?",
		string(status), errText, tenantID, id)
	if err != nil {
		return dbError(err, "update image status", "", "")
	}
	return sqlstore.MustAffect(res, "image not found")
}

// PutVariant records v, replacing the variant of the same image and name, so
// a redelivered job never adds a second one. The image must exist (ENOTFOUND).
func (s *Store) PutVariant(ctx context.Context, v *hotpath.Variant) error {
	v.CreatedAt = s.clock.Stamp(v.CreatedAt)
	err := s.write(ctx, func(tx *sql.Tx) error { return insertVariant(ctx, tx, v, true) })
	return dbError(err, "put variant", "", "image not found")
}

// GetVariant returns the variant name of the image.
func (s *Store) GetVariant(ctx context.Context, imageID, name string) (*hotpath.Variant, error) {
	v, err := scanVariant(s.reader.QueryRowContext(ctx,
		"SELECT "+variantColumns+" FROM variants WHERE image_id = ? AND name = ?", imageID, name))
	if err != nil {
		return nil, dbError(err, "get variant", "variant not found", "")
	}
	return &v, nil
}
