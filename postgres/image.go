package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO images (id, tenant_id, filename, format, width, height, bytes, sha256, status, error, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			img.ID, img.TenantID, img.Filename, string(img.Format), img.Width, img.Height, img.Bytes, img.SHA256,
			string(img.Status), img.Error, img.CreatedAt)
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

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insertVariant inserts v; with upsert, a variant of the same image and name
// is replaced in place.
func insertVariant(ctx context.Context, db execer, v *hotpath.Variant, upsert bool) error {
	q := `INSERT INTO variants (image_id, name, format, width, height, bytes, blob_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	if upsert {
		q += ` ON CONFLICT (image_id, name) DO UPDATE SET format = excluded.format, width = excluded.width,
			height = excluded.height, bytes = excluded.bytes, blob_key = excluded.blob_key, created_at = excluded.created_at`
	}
	_, err := db.Exec(ctx, q, v.ImageID, v.Name, string(v.Format), v.Width, v.Height, v.Bytes, v.BlobKey, v.CreatedAt)
	return err
}

const imageColumns = "id, tenant_id, filename, format, width, height, bytes, sha256, status, error, created_at"

func scanImage(row pgx.Row) (*hotpath.Image, error) {
	var img hotpath.Image
	var format, status string
	err := row.Scan(&img.ID, &img.TenantID, &img.Filename, &format, &img.Width, &img.Height, &img.Bytes,
		&img.SHA256, &status, &img.Error, &img.CreatedAt)
	if err != nil {
		return nil, err
	}
	img.Format = hotpath.Format(format)
	img.Status = hotpath.ImageStatus(status)
	img.CreatedAt = img.CreatedAt.UTC()
	img.Variants = []hotpath.Variant{}
	return &img, nil
}

const variantColumns = "image_id, name, format, width, height, bytes, blob_key, created_at"

func scanVariant(row pgx.Row) (hotpath.Variant, error) {
	var v hotpath.Variant
	var format string
	if err := row.Scan(&v.ImageID, &v.Name, &format, &v.Width, &v.Height, &v.Bytes, &v.BlobKey, &v.CreatedAt); err != nil {
		return v, err
	}
	v.Format = hotpath.Format(format)
	v.CreatedAt = v.CreatedAt.UTC()
	return v, nil
}

// readTx runs fn in a repeatable-read, read-only transaction: one snapshot.
func (s *Store) readTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// GetImage returns the tenant's image with its preset variants (not its stored transforms) in the order they were added.
func (s *Store) GetImage(ctx context.Context, tenantID, id string) (*hotpath.Image, error) {
	var img *hotpath.Image
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var err error
		img, err = scanImage(tx.QueryRow(ctx, "SELECT "+imageColumns+" FROM images WHERE ($1 = '' OR tenant_id = $1) AND id = $2", tenantID, id))
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
func loadVariants(ctx context.Context, tx pgx.Tx, images []*hotpath.Image) error {
	if len(images) == 0 {
		return nil
	}
	byID := make(map[string]*hotpath.Image, len(images))
	ids := make([]string, len(images))
	for i, img := range images {
		byID[img.ID] = img
		ids[i] = img.ID
	}
	rows, err := tx.Query(ctx, "SELECT "+variantColumns+" FROM variants WHERE image_id = ANY($1) AND left(name, 2) <> 't:' ORDER BY seq", ids)
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
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+imageColumns+` FROM images
			WHERE tenant_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, tenantID, cursor, limit+1)
		if err != nil {
			return err
		}
		images, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*hotpath.Image, error) { return scanImage(row) })
		if err != nil {
			return err
		}
		if len(images) > limit {
			images = images[:limit]
			page.NextCursor = images[limit-1].ID
		}
		if images != nil {
			page.Images = images
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
	tag, err := s.pool.Exec(ctx, "DELETE FROM images WHERE tenant_id = $1 AND id = $2", tenantID, id)
	if err != nil {
		return dbError(err, "delete image", "", "")
	}
	return mustAffect(tag, "image not found")
}

// UpdateImageStatus sets the status and error text of the tenant's image.
func (s *Store) UpdateImageStatus(ctx context.Context, tenantID, id string, status hotpath.ImageStatus, errText string) error {
	tag, err := s.pool.Exec(ctx, "UPDATE images SET status = $1, error = $2 WHERE tenant_id = $3 AND id = $4",
		string(status), errText, tenantID, id)
	if err != nil {
		return dbError(err, "update image status", "", "")
	}
	return mustAffect(tag, "image not found")
}

// PutVariant records v, replacing the variant of the same image and name, so
// a redelivered job never adds a second one. The image must exist (ENOTFOUND).
func (s *Store) PutVariant(ctx context.Context, v *hotpath.Variant) error {
	v.CreatedAt = s.clock.Stamp(v.CreatedAt)
	return dbError(insertVariant(ctx, s.pool, v, true), "put variant", "", "image not found")
}

// GetVariant returns the variant name of the image.
func (s *Store) GetVariant(ctx context.Context, imageID, name string) (*hotpath.Variant, error) {
	v, err := scanVariant(s.pool.QueryRow(ctx, "SELECT "+variantColumns+" FROM variants WHERE image_id = $1 AND name = $2", imageID, name))
	if err != nil {
		return nil, dbError(err, "get variant", "variant not found", "")
	}
	return &v, nil
}
