package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/hotpath/hotpath"
	hphttp "github.com/hotpath/hotpath/http"
)

func init() {
	register(command{Name: "keys", Summary: "API keys (create, list, revoke) and encryption keys (encryption-key, rotate-master, shred-tenant)", Run: runKeys})
}

const keysHelp = `Manages the API keys of the configured metadata store (--db, or the
defaults of 'hotpath serve').

  keys create --tenant T --scope read|write|admin [--name N]
      makes a key and prints its secret once on stdout; the tenant is
      created when it does not exist. Only the key's SHA-256 is stored.
  keys list [--tenant T]
      lists keys: id, tenant, scope, prefix, name, created, revoked.
  keys revoke ID
      revokes a key. With a shared cache (--cache redis://…) every server
      refuses it at once; servers with their own mem:// cache refuse it
      within --cache-key-ttl (30s by default).

Encryption at rest (docs/encryption.md):

  keys encryption-key
      prints a new random master key (32 bytes, base64) on stdout:
      hotpath keys encryption-key > master.key; chmod 600 master.key
  keys rotate-master --encryption-key-file OLD --new-key-file NEW
      puts every tenant's key under the master key in NEW without
      re-encrypting any blob: OLD is rewritten to hold NEW's key then the old
      one (servers reading OLD accept both), the tenant keys are rewrapped,
      and OLD ends holding only the new key. Servers keep reading throughout.
  keys export-tenant T --encryption-key-file F
      prints tenant T's key (base64) on stdout, unwrapped: with it,
      'hotpath decrypt --key-file' or hotpath.decrypt read T's blob files
      straight from the store (escrow, recovery, audits).
  keys shred-tenant T
      destroys tenant T's encryption key, so that its encrypted blobs are
      unreadable at once (servers that just read them within 1s), then
      deletes its images: rows and blobs (--store).`

func runKeys(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "keys", "create|list|revoke [flags] [ID]", keysHelp)
	tenant := fs.String("tenant", "", "tenant id (create: required; list: only this tenant)")
	scope := fs.String("scope", "", "create: read, write or admin")
	name := fs.String("name", "", "create: what the key is for")
	// keys reads only where the keys are (and, to revoke, the cache that may
	// hold them), so only those settings are its flags.
	newKeyFile := fs.String("new-key-file", "", "rotate-master: the file of the new master key")
	cfg, positional, err := loadConfig(env, fs, args, "config", "data", "db", "cache", "cache-key-ttl", "store", "encryption-key-file")
	if err != nil {
		return err
	}
	if len(positional) == 0 {
		return Usagef("want a subcommand: create, list or revoke (see 'hotpath keys --help')")
	}
	sub, rest := positional[0], positional[1:]
	switch {
	case sub == "encryption-key" || sub == "rotate-master" || sub == "shred-tenant" || sub == "export-tenant":
		return runEncryptionKeys(ctx, env, cfg, sub, rest, *newKeyFile)
	case sub == "create" && len(rest) == 0:
		if *tenant == "" || *scope == "" {
			return Usagef("create needs --tenant and --scope")
		}
	case sub == "list" && len(rest) == 0:
	case sub == "revoke" && len(rest) == 1:
	case sub == "revoke" && len(rest) == 0:
		return Usagef("revoke needs the ID of the key to revoke (the first column of 'hotpath keys list')")
	case sub == "revoke":
		return Usagef("revoke takes one key ID, got %d: %q", len(rest), rest)
	case sub == "create" || sub == "list":
		return Usagef("%s takes no arguments, got %q", sub, rest)
	default:
		return Usagef("unknown subcommand %q: want create, list, revoke, encryption-key, rotate-master, export-tenant or shred-tenant", sub)
	}

	meta, err := openMetadataStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer meta.Close()
	switch sub {
	case "create":
		return createKey(ctx, env, meta, *tenant, hotpath.Scope(*scope), *name)
	case "list":
		return listKeys(ctx, env, meta, *tenant)
	}
	return revokeKey(ctx, env, cfg, meta, rest[0])
}

// revokeKey revokes the key with this id. With a shared cache (redis://) it
// also deletes the key's cached lookup, so that every server refuses it at
// once; a server's own mem:// cache is out of reach and keeps the key valid
// for at most --cache-key-ttl.
func revokeKey(ctx context.Context, env *Env, cfg Config, meta hotpath.MetadataStore, id string) error {
	keys, err := meta.ListAPIKeys(ctx, "")
	if err != nil {
		return err
	}
	var hash []byte
	for _, k := range keys {
		if k.ID != id {
			continue
		}
		if k.RevokedAt != nil {
			fmt.Fprintf(env.Stderr, "key %s was already revoked on %s; nothing changed\n", id, k.RevokedAt.UTC().Format(time.RFC3339))
			return nil
		}
		hash = k.Hash
	}
	if err := meta.RevokeAPIKey(ctx, id); hotpath.IsNotFound(err) {
		return hotpath.Errorf(hotpath.ENOTFOUND, "no API key has the ID %q (see 'hotpath keys list')", id)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "revoked key %s\n", id)
	if scheme, _ := splitBackendURL(cfg.Cache); len(hash) == 0 || (scheme != "redis" && scheme != "rediss") {
		fmt.Fprintf(env.Stderr, "servers that cached it refuse it within %s\n", cfg.HTTP.Cache.KeyTTL)
		return nil
	}
	cache, err := openCache(ctx, cfg.Cache)
	if err == nil {
		defer cache.Close()
		err = cache.Delete(ctx, hphttp.APIKeyCacheKey(hash))
	}
	if err != nil {
		// The revoke is stored; only the shortcut failed.
		fmt.Fprintf(env.Stderr, "warning: could not remove the key from the shared cache (%s); servers that cached it refuse it within %s\n",
			hotpath.ErrorMessage(err), cfg.HTTP.Cache.KeyTTL)
	}
	return nil
}

// createKey stores a new key and prints its secret, the only time it is shown.
func createKey(ctx context.Context, env *Env, meta hotpath.MetadataStore, tenantID string, scope hotpath.Scope, name string) error {
	secret, key, err := hphttp.NewAPIKey(tenantID, name, scope)
	if err != nil {
		return Usagef("%s", hotpath.ErrorMessage(err))
	}
	if _, err := ensureTenant(ctx, meta, tenantID); err != nil {
		return err
	}
	if err := meta.CreateAPIKey(ctx, key); err != nil {
		return err
	}
	fmt.Fprintf(env.Stderr, "created key %s (tenant %s, scope %s); the secret below is shown once:\n", key.ID, tenantID, scope)
	fmt.Fprintln(env.Stdout, secret)
	return nil
}

// listKeys prints a table of keys, without their secrets.
func listKeys(ctx context.Context, env *Env, meta hotpath.MetadataStore, tenantID string) error {
	keys, err := meta.ListAPIKeys(ctx, tenantID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tSCOPE\tPREFIX\tNAME\tCREATED\tREVOKED")
	for _, k := range keys {
		revoked := "-"
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.TenantID, k.Scope, k.Prefix, k.Name, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
	}
	return tw.Flush()
}
