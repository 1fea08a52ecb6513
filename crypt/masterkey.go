package crypt

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hotpath/hotpath"
)

var _ hotpath.KeyProvider = (*MasterKeys)(nil)

// wrappedVersion starts every key wrapped by MasterKeys.
const wrappedVersion = 1

// wrappedSize is version, master key id, nonce, sealed key and tag.
const wrappedSize = 1 + KeyIDSize + 12 + KeySize + 16

// reloadEvery bounds how often an unknown master key id makes MasterKeys
// read its file again.
const reloadEvery = time.Second

// MasterKeys is the KeyProvider of a master key file (--encryption-key-file):
// one base64 key per line, the first wraps new keys and every one unwraps.
// A second line exists only during a rotation. When a wrapped key names a
// master key it does not hold, it reads the file again, so that servers keep
// reading while 'hotpath keys rotate-master' rewrites the file.
type MasterKeys struct {
	path string

	mu     sync.Mutex
	keys   [][]byte // keys[0] wraps
	loaded time.Time
	mtime  time.Time
}

// OpenMasterKeys reads the master key file at path.
func OpenMasterKeys(path string) (*MasterKeys, error) {
	m := &MasterKeys{path: path}
	if err := m.load(); err != nil {
		return nil, err
	}
	return m, nil
}

// NewMasterKeys returns a provider over keys, the first wrapping; it reads
// no file.
func NewMasterKeys(keys ...[]byte) *MasterKeys { return &MasterKeys{keys: keys} }

// ReadKeyFile reads a key file: base64 keys, one per line; empty lines and
// lines starting with # are skipped.
func ReadKeyFile(path string) ([][]byte, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, hotpath.WrapError(hotpath.EINVALID, err, "read key file %s", path)
	}
	var keys [][]byte
	for i, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, err := ParseKey([]byte(line))
		if err != nil {
			return nil, hotpath.WrapError(hotpath.EINVALID, err, "key file %s, line %d: %s", path, i+1, hotpath.ErrorMessage(err))
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, hotpath.Errorf(hotpath.EINVALID, "key file %s holds no key ('hotpath keys encryption-key' makes one)", path)
	}
	return keys, nil
}

// WriteKeyFile replaces the key file at path with keys, atomically and
// readable by its owner only.
func WriteKeyFile(path string, keys ...[]byte) error {
	var text strings.Builder
	for _, k := range keys {
		text.WriteString(encodeKey(k) + "\n")
	}
	tmp := fmt.Sprintf("%s.tmp-%x", path, KeyID(keys[0])[:4])
	if err := os.WriteFile(tmp, []byte(text.String()), 0o600); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// load reads the file; the caller holds mu or owns m.
func (m *MasterKeys) load() error {
	st, err := os.Stat(m.path)
	if err != nil {
		return hotpath.WrapError(hotpath.EINVALID, err, "read key file %s", m.path)
	}
	keys, err := ReadKeyFile(m.path)
	if err != nil {
		return err
	}
	m.keys, m.loaded, m.mtime = keys, time.Now(), st.ModTime()
	return nil
}

// current returns the wrapping key, re-reading a file that changed since.
func (m *MasterKeys) current() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.path != "" && m.changed() {
		m.load() // a failed reload keeps the keys held
	}
	return m.keys[0]
}

// find returns the master key with id, reading the file again when it
// holds none and the file changed or was read over a second ago.
func (m *MasterKeys) find(id []byte) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		for _, k := range m.keys {
			if bytes.Equal(KeyID(k), id) {
				return k
			}
		}
		if attempt == 0 && m.path != "" && (m.changed() || time.Since(m.loaded) >= reloadEvery) {
			m.load()
			continue
		}
		break
	}
	return nil
}

// changed reports whether the file's modification time moved since it was
// read; the caller holds mu.
func (m *MasterKeys) changed() bool {
	st, err := os.Stat(m.path)
	return err == nil && !st.ModTime().Equal(m.mtime)
}

// IDs returns the ids of the keys held, the wrapping one first.
func (m *MasterKeys) IDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := make([]string, len(m.keys))
	for i, k := range m.keys {
		ids[i] = hex.EncodeToString(KeyID(k))
	}
	return ids
}

// WrapKey seals key under the current master key, bound to aad.
func (m *MasterKeys) WrapKey(ctx context.Context, key, aad []byte) ([]byte, error) {
	master := m.current()
	aead, err := newGCM(master)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 1+KeyIDSize+12, wrappedSize)
	out[0] = wrappedVersion
	copy(out[1:], KeyID(master))
	rand.Read(out[1+KeyIDSize:])
	return aead.Seal(out, out[1+KeyIDSize:], key, append(bytes.Clone(out[:1+KeyIDSize]), aad...)), nil
}

// UnwrapKey opens a key sealed by WrapKey with the same aad.
func (m *MasterKeys) UnwrapKey(ctx context.Context, wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) != wrappedSize || wrapped[0] != wrappedVersion {
		return nil, hotpath.Errorf(hotpath.EINTEGRITY, "a wrapped key is damaged (%d bytes, not %d of version %d)", len(wrapped), wrappedSize, wrappedVersion)
	}
	id := wrapped[1 : 1+KeyIDSize]
	master := m.find(id)
	if master == nil {
		return nil, hotpath.Errorf(hotpath.EUNAVAILABLE,
			"a key is wrapped by master key %s, which the master key file does not hold (its keys: %s): wrong --encryption-key-file?",
			hex.EncodeToString(id), strings.Join(m.IDs(), ", "))
	}
	aead, err := newGCM(master)
	if err != nil {
		return nil, err
	}
	key, err := aead.Open(nil, wrapped[1+KeyIDSize:1+KeyIDSize+12], wrapped[1+KeyIDSize+12:], append(bytes.Clone(wrapped[:1+KeyIDSize]), aad...))
	if err != nil {
		return nil, hotpath.Errorf(hotpath.EINTEGRITY, "a wrapped key failed authentication under master key %s (modified, or moved from another tenant)", hex.EncodeToString(id))
	}
	return key, nil
}
