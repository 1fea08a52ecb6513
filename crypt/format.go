// Package crypt is hotpath's encryption engine: one streaming format for
// everything it encrypts, blobs at rest (BlobStore wraps any
// hotpath.BlobStore), files and streams of the CLI and byte strings of the
// Python binding, so that what one encrypts another reads.
//
// The format is a fixed 88-byte header followed by a DARE 2.0 stream
// (github.com/minio/sio): the plaintext in packages of 64 KiB, each sealed
// with AES-256-GCM under a data key drawn at random for the object, so a
// range decrypts only the packages it touches and any changed byte fails
// authentication. The header carries the data key sealed by a 32-byte
// key-encryption key (a tenant's key in the service, the key file's key in
// the CLI). docs/encryption.md has the byte layout.
package crypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/minio/sio"

	"github.com/hotpath/hotpath"
)

const (
	// KeySize is the size of every key: master, tenant, file and data keys.
	KeySize = 32
	// PackageSize is the plaintext of one DARE package: the unit a range
	// read decrypts and a worker seals.
	PackageSize = 64 << 10
	// packageOverhead is what DARE adds to a package: a 16-byte header and
	// a 16-byte GCM tag.
	packageOverhead = 32
	// sealedPackageSize is the ciphertext size of a full package.
	sealedPackageSize = PackageSize + packageOverhead
	// HeaderSize is the size of hotpath's header before the DARE stream.
	HeaderSize = 88
	// KeyIDSize is the size of a key's fingerprint in headers.
	KeyIDSize = 16

	formatVersion = 1
	// flagEmpty marks an empty plaintext, which DARE encodes as no packages
	// at all: without it, an object cut to its header would read as empty.
	flagEmpty = 1
)

// magic starts every encrypted object: a high byte so that no text file
// starts with it, the name, and CR LF to catch line-ending conversions.
var magic = [8]byte{0x89, 'H', 'P', 'E', 'N', 'C', '\r', '\n'}

// Header offsets.
const (
	offVersion = 8
	offCipher  = 9
	offFlags   = 10
	offKeyID   = 12
	offNonce   = offKeyID + KeyIDSize // 28
	offSealed  = offNonce + 12        // 40; the sealed data key runs to HeaderSize
)

// IsEncrypted reports whether b starts like an object in hotpath's format.
func IsEncrypted(b []byte) bool {
	return len(b) >= len(magic) && bytes.Equal(b[:len(magic)], magic[:])
}

// KeyID is the fingerprint of a key-encryption key written into every header
// it seals: HMAC-SHA256(key, "hotpath key id v1"), first 16 bytes. It tells a
// wrong key from a damaged header without revealing the key.
func KeyID(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hotpath key id v1"))
	return m.Sum(nil)[:KeyIDSize]
}

// ParseKey reads a key as key files hold it: 32 bytes in standard base64,
// surrounding white space ignored.
func ParseKey(text []byte) ([]byte, error) {
	s := strings.TrimSpace(string(text))
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(key) != KeySize {
		return nil, hotpath.Errorf(hotpath.EINVALID, "a key is %d random bytes in base64 (44 characters; 'hotpath keys encryption-key' makes one)", KeySize)
	}
	return key, nil
}

// NewKey returns a new random key in the form key files hold it.
func NewKey() string {
	key := make([]byte, KeySize)
	rand.Read(key)
	return encodeKey(key)
}

// encodeKey writes key as key files hold it.
func encodeKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

// newGCM returns AES-256-GCM under key.
func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, hotpath.Errorf(hotpath.EINVALID, "a key is %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealHeader draws a data key and returns it with the header that carries it
// sealed under kek. The sealing authenticates the whole header before it.
func sealHeader(kek []byte, empty bool) (header, dataKey []byte, err error) {
	aead, err := newGCM(kek)
	if err != nil {
		return nil, nil, err
	}
	header = make([]byte, offSealed, HeaderSize)
	copy(header, magic[:])
	header[offVersion] = formatVersion
	header[offCipher] = sio.AES_256_GCM
	if empty {
		header[offFlags] = flagEmpty
	}
	copy(header[offKeyID:], KeyID(kek))
	dataKey = make([]byte, KeySize)
	rand.Read(header[offNonce:offSealed])
	rand.Read(dataKey)
	header = aead.Seal(header, header[offNonce:offSealed], dataKey, header[:offSealed])
	return header, dataKey, nil
}

// errWrongKey is the cause of an object sealed under another key.
var errWrongKey = errors.New("sealed under another key")

// openHeader returns the data key a header carries and whether the
// plaintext is empty. A header sealed under another key than kek fails with
// EUNAVAILABLE (its key cannot be had here), a modified one with EINTEGRITY.
func openHeader(header, kek []byte) (dataKey []byte, empty bool, err error) {
	if len(header) != HeaderSize || !IsEncrypted(header) {
		return nil, false, integrityError("its header is cut short or damaged")
	}
	aead, err := newGCM(kek)
	if err != nil {
		return nil, false, err
	}
	dataKey, err = aead.Open(nil, header[offNonce:offSealed], header[offSealed:], header[:offSealed])
	if err == nil {
		return dataKey, header[offFlags]&flagEmpty != 0, nil
	}
	if id := header[offKeyID:offNonce]; !bytes.Equal(id, KeyID(kek)) {
		return nil, false, hotpath.WrapError(hotpath.EUNAVAILABLE, errWrongKey,
			"encrypted under key %s, not under the given key %s", hex.EncodeToString(id), hex.EncodeToString(KeyID(kek)))
	}
	return nil, false, integrityError("its header failed authentication")
}

// integrityError is EINTEGRITY with why.
func integrityError(why string) error {
	return hotpath.Errorf(hotpath.EINTEGRITY, "encrypted data failed authentication: %s", why)
}

// annotate prefixes the client-safe message of the coded err with what it
// concerns, keeping its code and its cause (once, not its message twice).
func annotate(err error, format string, args ...any) error {
	var herr *hotpath.Error
	if !errors.As(err, &herr) {
		return err
	}
	return &hotpath.Error{Code: herr.Code, Message: fmt.Sprintf(format, args...) + ": " + herr.Message, Err: herr.Err}
}

// packageError turns a DARE failure at package seq into EINTEGRITY; other
// errors (reading the source) pass unchanged.
func packageError(err error, seq uint64) error {
	var serr sio.Error
	if errors.As(err, &serr) {
		return hotpath.WrapError(hotpath.EINTEGRITY, err, "encrypted data failed authentication in package %d (bytes %d-%d of the plaintext): modified or cut short",
			seq, seq*PackageSize, (seq+1)*PackageSize-1)
	}
	return err
}

// darConfig is the DARE configuration for one stream under dataKey, starting
// at package seq. Only DARE 2.0 with AES-256-GCM is written or read.
func dareConfig(dataKey []byte, seq uint32) sio.Config {
	return sio.Config{
		MinVersion:     sio.Version20,
		MaxVersion:     sio.Version20,
		CipherSuites:   []byte{sio.AES_256_GCM},
		Key:            dataKey,
		SequenceNumber: seq,
	}
}

// EncryptedSize is the size of the encrypted form of size plaintext bytes.
func EncryptedSize(size int64) (int64, error) {
	n, err := sio.EncryptedSize(uint64(size))
	if err != nil || size < 0 {
		return 0, hotpath.Errorf(hotpath.ETOOLARGE, "%d bytes is beyond what one encrypted stream holds", size)
	}
	return HeaderSize + int64(n), nil
}

// DecryptedSize is the plaintext size of an encrypted object of size bytes,
// EINTEGRITY when no encrypted object has that size (it was cut short).
func DecryptedSize(size int64) (int64, error) {
	if size < HeaderSize {
		return 0, integrityError("it is shorter than its header")
	}
	n, err := sio.DecryptedSize(uint64(size - HeaderSize))
	if err != nil {
		return 0, integrityError(fmt.Sprintf("%d bytes is no valid encrypted size (cut short)", size))
	}
	return int64(n), nil
}
