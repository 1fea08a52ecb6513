package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/crypt"
)

// runEncryptionKeys runs the encryption subcommands of 'hotpath keys'.
func runEncryptionKeys(ctx context.Context, env *Env, cfg Config, sub string, rest []string, newKeyFile string) error {
	switch {
	case sub == "encryption-key" && len(rest) == 0:
		fmt.Fprintln(env.Stdout, crypt.NewKey())
		return nil
	case sub == "rotate-master" && len(rest) == 0:
		if cfg.EncryptionKeyFile == "" || newKeyFile == "" {
			return Usagef("rotate-master needs --encryption-key-file (the current master key file, which it rewrites) and --new-key-file")
		}
	case (sub == "shred-tenant" || sub == "export-tenant") && len(rest) == 1 && rest[0] != "":
		if sub == "export-tenant" && cfg.EncryptionKeyFile == "" {
			return Usagef("export-tenant needs --encryption-key-file, the master key that opens the tenant's key")
		}
	case sub == "shred-tenant" || sub == "export-tenant":
		return Usagef("%s takes one tenant ID", sub)
	default:
		return Usagef("%s takes no arguments, got %q", sub, rest)
	}
	meta, err := openMetadataStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer meta.Close()
	switch sub {
	case "rotate-master":
		return rotateMaster(ctx, env, meta, cfg.EncryptionKeyFile, newKeyFile)
	case "export-tenant":
		keys, err := tenantKeys(meta, cfg.EncryptionKeyFile)
		if err != nil {
			return err
		}
		key, err := keys.Key(ctx, rest[0], false)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, base64.StdEncoding.EncodeToString(key))
		return nil
	}
	return shredTenant(ctx, env, cfg, meta, rest[0])
}

// rotateMaster rewraps every tenant key under the key of newKeyFile and
// leaves keyFile holding only that key. Between the steps keyFile holds both
// keys, new first: servers that read it meet a tenant key wrapped by either
// and re-read the file when a key names a master key they lack.
func rotateMaster(ctx context.Context, env *Env, meta hotpath.MetadataStore, keyFile, newKeyFile string) error {
	fresh, err := crypt.ReadKeyFile(newKeyFile)
	if err != nil {
		return err
	}
	newKey := fresh[0]
	old, err := crypt.ReadKeyFile(keyFile)
	if err != nil {
		return err
	}
	both := append([][]byte{newKey}, slices.DeleteFunc(old, func(k []byte) bool { return slices.Equal(k, newKey) })...)
	if err := crypt.WriteKeyFile(keyFile, both...); err != nil {
		return fmt.Errorf("write %s: %w", keyFile, err)
	}
	store, ok := meta.(hotpath.TenantKeyStore)
	if !ok {
		return hotpath.Errorf(hotpath.EUNSUPPORTED, "this metadata store cannot keep encryption keys")
	}
	keys := crypt.NewTenantKeys(store, crypt.NewMasterKeys(both...), 0)
	n, err := keys.Rewrap(ctx)
	if err == nil {
		// A server that took the old key to wrap a new tenant's key just
		// before the file changed may store it after the first pass: a
		// second pass, once servers have re-read the file, catches it.
		time.Sleep(time.Second)
		n, err = keys.Rewrap(ctx)
	}
	if err != nil {
		return fmt.Errorf("rewrap tenant keys (%s still holds both master keys; run rotate-master again): %w", keyFile, err)
	}
	if err := crypt.WriteKeyFile(keyFile, newKey); err != nil {
		return fmt.Errorf("write %s: %w", keyFile, err)
	}
	fmt.Fprintf(env.Stderr, "rewrapped %d tenant keys under master key %s; %s now holds only it (%s may be deleted)\n",
		n, hex.EncodeToString(crypt.KeyID(newKey)), keyFile, newKeyFile)
	return nil
}

// shredTenant destroys the tenant's encryption key first, so that its blobs
// are unreadable even if what follows fails, then deletes its images: each
// image's rows, then every blob under the tenant's prefix.
func shredTenant(ctx context.Context, env *Env, cfg Config, meta hotpath.MetadataStore, tenantID string) error {
	store, ok := meta.(hotpath.TenantKeyStore)
	if !ok {
		return hotpath.Errorf(hotpath.EUNSUPPORTED, "this metadata store cannot keep encryption keys")
	}
	if err := store.DeleteTenantKey(ctx, tenantID); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "destroyed the encryption key of tenant %s: its encrypted blobs are unreadable\n", tenantID)
	images := 0
	for {
		page, err := meta.ListImages(ctx, tenantID, "", 100)
		if err != nil {
			return err
		}
		for _, img := range page.Images {
			if err := meta.DeleteImage(ctx, tenantID, img.ID); err != nil && !hotpath.IsNotFound(err) {
				return err
			}
			images++
		}
		if page.NextCursor == "" {
			break
		}
	}
	blobs, err := openBlobStore(ctx, cfg.Store)
	if err != nil {
		return err
	}
	defer blobs.Close()
	if err := blobs.DeletePrefix(ctx, tenantID+"/"); err != nil {
		return fmt.Errorf("delete the blobs of tenant %s (its key is gone already): %w", tenantID, err)
	}
	fmt.Fprintf(env.Stderr, "deleted %d images of tenant %s and its blobs\n", images, tenantID)
	return nil
}
