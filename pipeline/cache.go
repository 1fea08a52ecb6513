package pipeline

import "context"

// Cache keys of what the API caches about an image. They live here, beside
// InvalidateImage, so that the readers (http) and the writers that must
// invalidate (Delete, the job handler) cannot disagree on them.

// ImageCacheKey is the cache key of an image's metadata.
func ImageCacheKey(imageID string) string { return "img:" + imageID }

// VariantCacheKey is the cache key of a small preset variant's bytes. The API
// serves it only after the image's metadata was found, so deleting the
// image's img: key is enough to stop it being served.
func VariantCacheKey(imageID, preset string) string { return "var:" + imageID + ":" + preset }

// InvalidateImage removes what the cache holds about an image: its metadata
// and the bytes of its preset variants. A shared cache makes every process
// see it. A cache failure is logged, never returned: the cache entries then
// live until their TTL, which bounds how stale a read can be.
func (s *Service) InvalidateImage(ctx context.Context, imageID string) {
	if s.Cache == nil {
		return
	}
	keys := make([]string, 0, 1+len(s.Config.Presets))
	keys = append(keys, ImageCacheKey(imageID))
	for _, p := range s.Config.Presets {
		keys = append(keys, VariantCacheKey(imageID, p.Name))
	}
	if err := s.Cache.Delete(context.WithoutCancel(ctx), keys...); err != nil {
		s.Logger.WarnContext(ctx, "cache: invalidate image", "image", imageID, "err", err)
	}
}
