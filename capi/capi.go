// Command capi is hotpath's C ABI: built with
//
//	go build -buildmode=c-shared -o build/libhotpath.so ./capi
//
// it produces libhotpath.so and libhotpath.h, which the Python package loads
// with ctypes. It exposes the CSV distinct-count engine (package uniq) and the
// image engine (package vips) to any language with a C FFI.
//
// Ownership, for every function:
//   - Inputs belong to the caller. Go reads them only while the call runs and
//     keeps no pointer to them after it returns; image inputs are copied into
//     Go memory before libvips sees them.
//   - Outputs (strings, JSON, image bytes, error code and message) are
//     allocated with C malloc and belong to the caller, who releases each with
//     hotpath_free (never with the free of another allocator, never twice).
//   - Every function returning int returns 0 on success and -1 on failure; on
//     failure *err holds a code (one of the hotpath error codes: invalid,
//     not_found, too_large, unsupported, unprocessable, internal, ...) and a
//     message, and no other output is set. A panic inside Go is recovered at
//     the boundary and reported as code "internal"; it never unwinds into C.
//   - The functions are safe to call from many threads at once. Call them from
//     C code without holding Python's GIL (ctypes.CDLL releases it).
//   - Fork: the Go runtime does not survive fork(). A child process must not
//     call into a library its parent already called; load it after fork, or
//     start children with the spawn method.
package main

/*
#include <stdint.h>
#include <stdlib.h>

// libhotpath: hotpath's Go engines behind a C ABI.
//
// Ownership:
//  - Inputs belong to the caller. They are read only during the call; no
//    pointer to them is kept after it returns.
//  - Outputs (strings, JSON, image data, error code and message) are
//    malloc'ed and belong to the caller: release each with hotpath_free.
//  - Functions returning int return 0 on success and -1 on failure, with
//    *err filled (code + message); a Go panic becomes code "internal".
//  - Thread-safe. The Go runtime does not survive fork(): a child must not
//    call a library its parent already loaded.
//
// Functions (see each one's comment in capi/capi.go):
//  hotpath_count_strings(items, lengths, n, trim, *count, *err)
//  hotpath_count_packed(buf, buf_len, lengths, n, trim, *count, *err)
//  hotpath_count_delimited(buf, len, sep, trim, expect, *count, *err)
//  hotpath_count_pyobjects(items, n, *layout, trim, *count, *err)
//  hotpath_count_file(path, options_json, cancel_token, *result_json, *err)
//  hotpath_thumbnail(data, len, options_json, cancel_token, *image, *err)
//  hotpath_encrypt(data, len, key, key_len, token, *out, *out_len, *err)
//  hotpath_decrypt(data, len, key, key_len, token, *out, *out_len, *err)
//  hotpath_encrypt_file(src, dst, key, key_len, token, *err)
//  hotpath_decrypt_file(src, dst, key, key_len, token, *err)
//  hotpath_cancel_token_new() -> token; hotpath_cancel(token); hotpath_cancel_token_free(token)
//  hotpath_version() -> malloc'ed string
//  hotpath_free(p)

// hotpath_error receives a failure: code is one of hotpath's stable error
// codes ("invalid", "not_found", "too_large", ...), message a one-line
// human-readable explanation. Both are C-malloc'ed and owned by the caller,
// who releases each with hotpath_free. Zero the struct before a call; on
// success it is left untouched.
typedef struct {
	char *code;
	char *message;
} hotpath_error;

// hotpath_pylayout describes CPython's object layout as the calling
// interpreter measured it: the addresses of the exact str and bytes types,
// and the offsets at which a compact ASCII str, a compact non-ASCII str and a
// bytes object keep their data.
typedef struct {
	uintptr_t str_type;
	uintptr_t bytes_type;
	int64_t ascii_data;
	int64_t compact_data;
	int64_t bytes_data;
} hotpath_pylayout;

// hotpath_image receives one encoded image from hotpath_thumbnail. data is
// C-malloc'ed (len bytes) and owned by the caller: release it with
// hotpath_free. format is a NUL-terminated name: "jpeg", "png", "webp", "avif".
typedef struct {
	unsigned char *data;
	int64_t len;
	int32_t width;
	int32_t height;
	char format[8];
} hotpath_image;
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"unsafe"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/crypt"
	"github.com/hotpath/hotpath/uniq"
)

func main() {} // required by -buildmode=c-shared; never run

// hotpath_free releases memory that a hotpath function returned: strings,
// JSON documents, image data and error fields. NULL is ignored.
//
//export hotpath_free
func hotpath_free(p unsafe.Pointer) {
	C.free(p)
}

// hotpath_version returns hotpath's version as a C-malloc'ed string that the
// caller releases with hotpath_free.
//
//export hotpath_version
func hotpath_version() *C.char {
	return C.CString(hotpath.Version)
}

// hotpath_count_strings sets *count to the number of distinct values among n
// strings: items[i] points at lengths[i] bytes (not NUL-terminated, may hold
// NUL). With trim non-zero, surrounding whitespace is removed first. The
// strings are read during the call only; nothing of them is kept.
//
//export hotpath_count_strings
func hotpath_count_strings(items **C.char, lengths *C.int64_t, n C.int64_t, trim C.int, count *C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error {
		if n < 0 || count == nil || (n > 0 && (items == nil || lengths == nil)) {
			return hotpath.Errorf(hotpath.EINVALID, "hotpath_count_strings: null pointer or negative count")
		}
		strs, err := viewStrings(unsafe.Pointer(items), unsafe.Pointer(lengths), int(n))
		if err != nil {
			return err
		}
		*count = C.int64_t(uniq.CountStrings(strs, trim != 0))
		return nil
	}), errOut)
}

// hotpath_count_packed sets *count to the number of distinct values among n
// strings stored back to back in buf (buf_len bytes): the i-th is the next
// lengths[i] bytes, and the lengths add up to buf_len. Unlike
// hotpath_count_delimited a value may hold any byte. buf and lengths are read
// during the call only.
//
//export hotpath_count_packed
func hotpath_count_packed(buf *C.char, bufLen C.int64_t, lengths *C.int64_t, n C.int64_t, trim C.int, count *C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error {
		if n < 0 || bufLen < 0 || count == nil || (n > 0 && lengths == nil) || (bufLen > 0 && buf == nil) {
			return hotpath.Errorf(hotpath.EINVALID, "hotpath_count_packed: null pointer or negative length")
		}
		strs, err := viewPacked(viewBytes(unsafe.Pointer(buf), int64(bufLen)), unsafe.Pointer(lengths), int(n))
		if err != nil {
			return err
		}
		*count = C.int64_t(uniq.CountStrings(strs, trim != 0))
		return nil
	}), errOut)
}

// hotpath_count_pyobjects sets *count to the number of distinct values among
// n Python objects, reading them where the interpreter keeps them instead of
// having Python join them into one buffer. items is the inline item array of
// a tuple the caller holds, so that every object stays alive and unchanged
// during the call (the GIL need not be held). Objects that are the same
// object are counted once before their bytes are read. When an item is not an
// exact str or bytes, or a str is not in CPython's compact form, *count is
// set to -1 and the caller counts another way.
//
//export hotpath_count_pyobjects
func hotpath_count_pyobjects(items *unsafe.Pointer, n C.int64_t, layout *C.hotpath_pylayout, trim C.int, count *C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error {
		if n < 0 || count == nil || layout == nil || (n > 0 && items == nil) {
			return hotpath.Errorf(hotpath.EINVALID, "hotpath_count_pyobjects: null pointer or negative count")
		}
		l := pyLayout{
			strType: uintptr(layout.str_type), bytesType: uintptr(layout.bytes_type),
			asciiData: int(layout.ascii_data), compactData: int(layout.compact_data), bytesData: int(layout.bytes_data),
		}
		got, _ := countPyObjects(unsafe.Slice(items, int(n)), l, trim != 0)
		*count = C.int64_t(got)
		return nil
	}), errOut)
}

// hotpath_count_delimited sets *count to the number of distinct values in
// buf (length bytes), values separated by the byte sep: an empty buffer holds
// no value, otherwise k separators delimit k+1 values. With trim non-zero,
// surrounding whitespace is removed from each value first. buf is read during
// the call only.
//
// expect guards a caller that joined its values with sep: when expect >= 0
// and buf does not hold exactly expect values (a value contained sep), the
// call counts nothing, sets *count to -1 and returns 0, so that the caller
// can choose another separator. Pass -1 to skip the check.
//
//export hotpath_count_delimited
func hotpath_count_delimited(buf *C.char, length C.int64_t, sep C.uchar, trim C.int, expect C.int64_t, count *C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error {
		if length < 0 || count == nil || (length > 0 && buf == nil) {
			return hotpath.Errorf(hotpath.EINVALID, "hotpath_count_delimited: null pointer or negative length")
		}
		data := viewBytes(unsafe.Pointer(buf), int64(length))
		if expect >= 0 && delimitedValues(data, byte(sep)) != int64(expect) {
			*count = -1
			return nil
		}
		*count = C.int64_t(uniq.CountDelimited(data, byte(sep), trim != 0))
		return nil
	}), errOut)
}

// hotpath_count_file counts the distinct values of the CSV or text file at
// path (NUL-terminated) as `hotpath uniq` does. options is a JSON object, or
// NULL or "" for the defaults, with the keys columns (names, or 1-based
// indexes as strings), records, no_header, delimiter (one byte), trim, top,
// approx, precision, memory (bytes), temp_dir, lenient and workers; an
// unknown key is an "invalid" error. token is 0 or a cancel token
// (hotpath_cancel_token_new): cancelled, the count stops between chunks with
// code "cancelled". On success *result receives the result as a C-malloc'ed
// JSON document, released with hotpath_free. A column missing from the header
// is code "column_not_found", a missing file "not_found".
//
//export hotpath_count_file
func hotpath_count_file(path *C.char, options *C.char, token C.int64_t, result **C.char, errOut *C.hotpath_error) C.int {
	return status(call(func() error {
		if path == nil || result == nil {
			return hotpath.Errorf(hotpath.EINVALID, "hotpath_count_file: null pointer")
		}
		var doc string
		if options != nil {
			doc = C.GoString(options)
		}
		out, err := countFile(contextOf(token), C.GoString(path), doc)
		if err != nil {
			return err
		}
		*result = (*C.char)(C.CBytes(append(out, 0)))
		return nil
	}), errOut)
}

// hotpath_thumbnail scales the image in data (length bytes; JPEG, PNG, WebP,
// GIF, AVIF/HEIF or TIFF, found from the bytes) with the server's engine and
// default limits. options is a JSON TransformOptions object, or NULL or ""
// for the defaults: width, height, fit ("fit", "fill", "pad", "force"),
// gravity, format ("jpeg", "png", "webp", "avif"), quality, background,
// keep_metadata, animated. data is copied before use and not kept. token is 0
// or a cancel token (see hotpath_count_file). On success *out receives the
// encoded image; release out->data with hotpath_free.
//
//export hotpath_thumbnail
func hotpath_thumbnail(data *C.char, length C.int64_t, options *C.char, token C.int64_t, out *C.hotpath_image, errOut *C.hotpath_error) C.int {
	return status(call(func() error {
		if length < 0 || out == nil || (length > 0 && data == nil) {
			return hotpath.Errorf(hotpath.EINVALID, "hotpath_thumbnail: null pointer or negative length")
		}
		var doc string
		if options != nil {
			doc = C.GoString(options)
		}
		r, err := transform(contextOf(token), viewBytes(unsafe.Pointer(data), int64(length)), doc)
		if err != nil {
			return err
		}
		if len(r.Format) >= len(out.format) {
			return hotpath.Errorf(hotpath.EINTERNAL, "internal error: format name %q too long", r.Format)
		}
		out.data = (*C.uchar)(C.CBytes(r.Data))
		out.len = C.int64_t(len(r.Data))
		out.width = C.int32_t(r.Width)
		out.height = C.int32_t(r.Height)
		for i := range out.format {
			out.format[i] = 0
		}
		for i := 0; i < len(r.Format); i++ {
			out.format[i] = C.char(r.Format[i])
		}
		return nil
	}), errOut)
}

// hotpath_encrypt encrypts len bytes at data under the 32-byte key in
// hotpath's format (docs/encryption.md), on every core, and sets *out to
// *out_len C-malloc'ed bytes that the caller releases with hotpath_free.
// token (0: none) cancels the work from another thread.
//
//export hotpath_encrypt
func hotpath_encrypt(data *C.char, length C.int64_t, key *C.char, keyLen C.int64_t, token C.int64_t, out **C.uchar, outLen *C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error { return cryptBytes(data, length, key, keyLen, token, out, outLen, true) }), errOut)
}

// hotpath_decrypt decrypts what hotpath_encrypt, 'hotpath encrypt' or the
// service wrote under key; as hotpath_encrypt otherwise. A modified or cut
// input fails with code "integrity", another key with "unavailable", input
// not in hotpath's format with "invalid"; no output is set then.
//
//export hotpath_decrypt
func hotpath_decrypt(data *C.char, length C.int64_t, key *C.char, keyLen C.int64_t, token C.int64_t, out **C.uchar, outLen *C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error { return cryptBytes(data, length, key, keyLen, token, out, outLen, false) }), errOut)
}

// cryptBytes is hotpath_encrypt (seal) and hotpath_decrypt.
func cryptBytes(data *C.char, length C.int64_t, key *C.char, keyLen C.int64_t, token C.int64_t, out **C.uchar, outLen *C.int64_t, seal bool) error {
	if length < 0 || keyLen < 0 || out == nil || outLen == nil || (length > 0 && data == nil) || key == nil {
		return hotpath.Errorf(hotpath.EINVALID, "hotpath_encrypt/decrypt: null pointer or negative length")
	}
	mem, n, err := sealBytes(contextOf(token), viewBytes(unsafe.Pointer(data), int64(length)), viewBytes(unsafe.Pointer(key), int64(keyLen)), seal)
	if err != nil {
		return err
	}
	*out, *outLen = (*C.uchar)(mem), C.int64_t(n)
	return nil
}

// hotpath_encrypt_file encrypts the file at src (a NUL-terminated path)
// into dst, on every core; dst is written beside itself and renamed into
// place only when complete.
//
//export hotpath_encrypt_file
func hotpath_encrypt_file(src, dst *C.char, key *C.char, keyLen C.int64_t, token C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error { return cryptFile(src, dst, key, keyLen, token, true) }), errOut)
}

// hotpath_decrypt_file decrypts the file at src into dst; a failure leaves
// no dst.
//
//export hotpath_decrypt_file
func hotpath_decrypt_file(src, dst *C.char, key *C.char, keyLen C.int64_t, token C.int64_t, errOut *C.hotpath_error) C.int {
	return status(call(func() error { return cryptFile(src, dst, key, keyLen, token, false) }), errOut)
}

// cryptFile is hotpath_encrypt_file (seal) and hotpath_decrypt_file.
func cryptFile(src, dst *C.char, key *C.char, keyLen C.int64_t, token C.int64_t, seal bool) error {
	if src == nil || dst == nil || key == nil || keyLen != crypt.KeySize {
		return hotpath.Errorf(hotpath.EINVALID, "hotpath_encrypt_file/decrypt_file: null pointer, or a key of %d bytes, not %d", keyLen, crypt.KeySize)
	}
	k := C.GoBytes(unsafe.Pointer(key), C.int(keyLen))
	run := crypt.DecryptFile
	if seal {
		run = crypt.EncryptFile
	}
	_, err := run(contextOf(token), C.GoString(src), C.GoString(dst), k, crypt.Options{})
	return err
}

// cMalloc returns n bytes (at least one) of C memory for a result.
func cMalloc(n int64) unsafe.Pointer { return C.malloc(C.size_t(max(n, 1))) }

// cFree releases memory from cMalloc.
func cFree(p unsafe.Pointer) { C.free(p) }

// call runs fn and turns a panic into an EINTERNAL error, so that no Go panic
// ever unwinds through a C frame (which would kill the host process).
func call(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = hotpath.WrapError(hotpath.EINTERNAL, fmt.Errorf("panic: %v\n%s", r, debug.Stack()), "internal error: panic: %v", r)
		}
	}()
	return fn()
}

// errorParts returns the code and message the C caller sees for err. An
// internal error's message includes its cause: the caller is this process,
// not a remote client, and needs it to report the bug.
func errorParts(err error) (code, message string) {
	code = hotpath.ErrorCode(err)
	message = hotpath.ErrorMessage(err)
	switch {
	case errors.Is(err, context.Canceled):
		return "cancelled", "cancelled"
	case errors.Is(err, uniq.ErrUnknownColumn):
		// Its own code, so that a binding can tell it from a missing file.
		return "column_not_found", message
	}
	if code == hotpath.EINTERNAL {
		var e *hotpath.Error
		if errors.As(err, &e) && e.Code == hotpath.EINTERNAL && e.Message != "" {
			message = e.Message
		} else {
			message = "internal error: " + err.Error()
		}
	}
	return code, message
}

// status writes err into out (when both are non-nil) and returns the C status:
// 0 for success, -1 for failure.
func status(err error, out *C.hotpath_error) C.int {
	if err == nil {
		return 0
	}
	if out != nil {
		code, message := errorParts(err)
		out.code = C.CString(code)
		out.message = C.CString(message)
	}
	return -1
}
