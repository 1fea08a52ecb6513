package pipeline

import (
	"bytes"
	"context"
	"io"
	"time"

	"github.com/hotpath/hotpath"
)

// A transform result is stored as a variant of its image, named "t:" and its
// canonical options, under the blob key of "t-" and their hash: the same
// options always land on the same row and blob, so that every process finds
// what another made.

// transformName is the variant name of opts' result.
func transformName(opts hotpath.TransformOptions) string {
	return "t:" + hotpath.CanonicalTransform(opts)
}

// TransformKey is the blob key of the result of opts for img. Callers that
// cache or lock one result across processes use it as its name.
func TransformKey(img *hotpath.Image, opts hotpath.TransformOptions) string {
	return hotpath.VariantKey(img.TenantID, img.ID, "t-"+hotpath.TransformHash(hotpath.CanonicalTransform(opts)))
}

// StoredTransform returns the stored result of opts for img, ENOTFOUND when
// none was made yet. Stored results are not loaded with the image (they grow
// without bound per image), so each is looked up by its name.
func (s *Service) StoredTransform(ctx context.Context, img *hotpath.Image, opts hotpath.TransformOptions) (*hotpath.Variant, error) {
	return s.Meta.GetVariant(ctx, img.ID, transformName(opts))
}

// Transform makes the result of opts for img from its original on a pool
// worker, stores it and records it, returning the record and the encoded
// bytes. The blob is written before the record, and removed again when the
// record cannot be written (the image was deleted meanwhile, or the store
// failed), so a record never points at nothing and no blob is left without
// one. A result made twice replaces the first.
func (s *Service) Transform(ctx context.Context, img *hotpath.Image, opts hotpath.TransformOptions) (*hotpath.Variant, []byte, error) {
	var rend hotpath.Rendition
	err := s.Pool.Do(ctx, func() error {
		data, err := s.readOriginal(ctx, img)
		if err != nil {
			return err
		}
		rend, err = s.Engine.Transform(ctx, data, opts)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	key := TransformKey(img, opts)
	if err := s.Blobs.Put(ctx, key, bytes.NewReader(rend.Data), int64(len(rend.Data)), rend.Format.ContentType()); err != nil {
		return nil, nil, err
	}
	v := &hotpath.Variant{
		ImageID: img.ID, Name: transformName(opts), Format: rend.Format, Width: rend.Width, Height: rend.Height,
		Bytes: int64(len(rend.Data)), BlobKey: key, CreatedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
	if err := s.Meta.PutVariant(ctx, v); err != nil {
		if derr := s.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
			s.Logger.ErrorContext(ctx, "remove unrecorded transform", "key", key, "err", derr)
		}
		return nil, nil, err
	}
	return v, rend.Data, nil
}

// OpenVariant opens the stored bytes of a variant or transform result. A
// recorded variant whose blob is missing is EINTERNAL: the store lost data.
func (s *Service) OpenVariant(ctx context.Context, v *hotpath.Variant) (hotpath.Blob, error) {
	b, err := s.Blobs.Open(ctx, v.BlobKey)
	if err != nil && hotpath.IsNotFound(err) {
		err = hotpath.WrapError(hotpath.EINTERNAL, err, "blob %s missing", v.BlobKey)
	}
	return b, err
}

// readOriginal reads an image's original into memory, bounded by its
// recorded size so that a changed blob cannot make it read without end.
func (s *Service) readOriginal(ctx context.Context, img *hotpath.Image) ([]byte, error) {
	b, err := s.Blobs.Open(ctx, hotpath.OriginalKey(img.TenantID, img.ID))
	if err != nil {
		if hotpath.IsNotFound(err) {
			err = hotpath.WrapError(hotpath.EINTERNAL, err, "original of %s missing", img.ID)
		}
		return nil, err
	}
	defer b.Close()
	limit := max(img.Bytes, b.Info().Size)
	data, err := io.ReadAll(io.LimitReader(b, limit+1))
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EUNAVAILABLE, err, "read original")
	}
	if int64(len(data)) > limit {
		return nil, hotpath.Errorf(hotpath.EINTERNAL, "original of %s is larger than recorded", img.ID)
	}
	return data, nil
}
