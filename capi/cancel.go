package main

// #include <stdint.h>
import "C"

import (
	"context"
	"sync"
)

// cancelTokens are the contexts that C callers can cancel: a token is made by
// hotpath_cancel_token_new, passed to long calls (hotpath_count_file,
// hotpath_thumbnail), cancelled from any thread by hotpath_cancel and released
// by hotpath_cancel_token_free. Plain integers cross the boundary rather than
// Go pointers, which C must not hold.
var cancelTokens = struct {
	sync.Mutex
	next int64
	byID map[int64]cancelToken
}{byID: map[int64]cancelToken{}}

type cancelToken struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// hotpath_cancel_token_new returns a new cancel token (a positive integer).
//
//export hotpath_cancel_token_new
func hotpath_cancel_token_new() C.int64_t {
	ctx, cancel := context.WithCancel(context.Background())
	cancelTokens.Lock()
	defer cancelTokens.Unlock()
	cancelTokens.next++
	cancelTokens.byID[cancelTokens.next] = cancelToken{ctx, cancel}
	return C.int64_t(cancelTokens.next)
}

// hotpath_cancel cancels the calls running with token, and those started with
// it later: they end soon (between chunks of work) with code "cancelled".
// An unknown token is ignored.
//
//export hotpath_cancel
func hotpath_cancel(token C.int64_t) {
	cancelTokens.Lock()
	t, ok := cancelTokens.byID[int64(token)]
	cancelTokens.Unlock()
	if ok {
		t.cancel()
	}
}

// hotpath_cancel_token_free releases token; calls still running with it are
// cancelled. An unknown token is ignored.
//
//export hotpath_cancel_token_free
func hotpath_cancel_token_free(token C.int64_t) {
	cancelTokens.Lock()
	t, ok := cancelTokens.byID[int64(token)]
	delete(cancelTokens.byID, int64(token))
	cancelTokens.Unlock()
	if ok {
		t.cancel()
	}
}

// contextOf returns the context of token, or context.Background() for 0. An
// unknown token gives a cancelled context: its owner has released it.
func contextOf(token C.int64_t) context.Context {
	if token == 0 {
		return context.Background()
	}
	cancelTokens.Lock()
	t, ok := cancelTokens.byID[int64(token)]
	cancelTokens.Unlock()
	if !ok {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	return t.ctx
}
