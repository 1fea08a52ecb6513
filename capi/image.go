package main

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/vips"
)

// engine is the process's one image engine, started on the first image call
// with the server's default limits, so that a library used only for counting
// never starts libvips.
var engine = sync.OnceValues(func() (*vips.Engine, error) {
	return vips.New(vips.Config{Limits: hotpath.DefaultLimits()})
})

// parseTransformOptions decodes a JSON hotpath.TransformOptions. Unknown keys
// are EINVALID, so that a typo is not silently ignored.
func parseTransformOptions(doc string) (hotpath.TransformOptions, error) {
	var opts hotpath.TransformOptions
	if doc == "" {
		return opts, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(doc)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&opts); err != nil {
		return opts, hotpath.WrapError(hotpath.EINVALID, err, "bad options: %v", err)
	}
	return opts, nil
}

// transform scales data with the JSON options doc. data may be the caller's
// memory: the engine copies it into C memory before libvips sees it
// (vips.Engine.openBytes), so nothing refers to it after the call.
func transform(ctx context.Context, data []byte, doc string) (hotpath.Rendition, error) {
	opts, err := parseTransformOptions(doc)
	if err != nil {
		return hotpath.Rendition{}, err
	}
	if len(data) == 0 {
		return hotpath.Rendition{}, hotpath.Errorf(hotpath.EINVALID, "empty image")
	}
	e, err := engine()
	if err != nil {
		return hotpath.Rendition{}, err
	}
	return e.Transform(ctx, data, opts)
}
