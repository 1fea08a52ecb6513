package vips

/*
#include "binding.h"
*/
import "C"

import "context"

// stopper stops the libvips evaluations of one call when its context ends,
// so that a client that leaves frees its worker at once instead of when the
// decode, resize or encode would have finished: every sink computing from a
// watched image kills itself at its next progress tick (binding.c, HpStop),
// also the sinks inside one C call (a resize's memory copies).
type stopper struct {
	ctx  context.Context
	c    *C.HpStop
	stop func() bool
}

// stopOn returns the stopper of a call under ctx; the caller ends it with
// release once it is done with libvips.
func stopOn(ctx context.Context) *stopper {
	s := &stopper{ctx: ctx, c: C.hp_stop_new()}
	if s.c != nil {
		c := s.c
		C.hp_stop_ref(c) // the cancel's own reference
		s.stop = context.AfterFunc(ctx, func() {
			C.hp_stop_cancel(c)
			C.hp_stop_unref(c)
		})
	}
	return s
}

// watch has every evaluation computing from im stopped once the call is
// cancelled. im must stay open until the evaluations it feeds are done.
func (s *stopper) watch(im *image) {
	if s.c != nil {
		C.hp_stop_watch(s.c, im.p)
	}
}

// release lets go of the stopper; the images it watches drop their handles
// on it when they are closed.
func (s *stopper) release() {
	if s.c == nil {
		return
	}
	if s.stop() {
		C.hp_stop_unref(s.c) // the cancel will never run
	}
	C.hp_stop_unref(s.c)
	s.c = nil
}

// cancelled reports whether the call's context has ended.
func (s *stopper) cancelled() bool { return s.ctx.Err() != nil }
