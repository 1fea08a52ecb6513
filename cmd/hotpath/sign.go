package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/hotpath/hotpath"
	hphttp "github.com/hotpath/hotpath/http"
)

func init() {
	register(command{Name: "sign", Summary: "print a signed transform URL (/t/...)", Run: runSign})
}

const signDescription = `Prints the signed path of an on-the-fly transform of a stored image:
/t/{signature}/{options}/{image_id}[.ext] (see docs/transforms.md).

OPTIONS is a comma-separated list such as 'w:400,h:300,fit:fill,g:smart,q:80,f:webp',
or '-' for none; it is checked and written in canonical syntax before signing.
IMAGE_ID may end in an extension (.jpg, .png, .webp, .avif) that sets the format.
The key comes from --key, else from the first of HOTPATH_SIGNING_KEYS (comma-separated);
with --unsafe no key is used and the URL carries "unsafe" for a development server.`

// runSign implements "hotpath sign OPTIONS IMAGE_ID[.ext]".
func runSign(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "sign", "[--key KEY] [--base URL] OPTIONS IMAGE_ID[.ext]", signDescription)
	key := fs.String("key", "", "signing key (default: first of $HOTPATH_SIGNING_KEYS)")
	base := fs.String("base", "", "server URL to prefix, e.g. https://img.example.com")
	unsafe := fs.Bool("unsafe", false, "print an unsigned URL for a server with unsigned URLs enabled")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return Usagef("want OPTIONS and IMAGE_ID, got %d arguments (see 'hotpath sign --help')", len(pos))
	}
	var keys []string
	switch {
	case *unsafe && *key != "":
		return Usagef("--unsafe and --key exclude each other")
	case *unsafe:
	case *key != "":
		keys = []string{*key}
	default:
		keys = hotpath.ParseSigningKeys(env.Getenv("HOTPATH_SIGNING_KEYS"))
		if len(keys) == 0 {
			return Usagef("no signing key: pass --key or set HOTPATH_SIGNING_KEYS (or --unsafe for a development server)")
		}
	}
	signer, err := hotpath.NewTransformSigner(keys, *unsafe)
	if err != nil {
		return err
	}
	// Parse the would-be path, so that sign refuses what the server would.
	u, err := hotpath.ParseTransformURL(hotpath.TransformRoutePrefix + hotpath.UnsignedToken + "/" + pos[0] + "/" + pos[1])
	if err != nil {
		return err
	}
	spec, err := hotpath.ParseTransformSpec(u.Options)
	if err != nil {
		return err
	}
	if _, err := u.Spec(); err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, strings.TrimSuffix(*base, "/")+signer.Path(spec.String(), u.ImageID, u.Format))
	return nil
}

// signingKeysFlag reads comma-separated signing keys. It never prints them,
// so that --help and config dumps do not leak secrets.
type signingKeysFlag struct{ keys *[]string }

func (f signingKeysFlag) String() string {
	if f.keys == nil || len(*f.keys) == 0 {
		return ""
	}
	return fmt.Sprintf("(%d keys)", len(*f.keys))
}

func (f signingKeysFlag) Set(s string) error {
	*f.keys = hotpath.ParseSigningKeys(s)
	return nil
}

// transformFlags adds the transform settings of `hotpath serve` to fs, bound
// to c; each flag is also read from HOTPATH_<FLAG> (HOTPATH_SIGNING_KEYS,
// HOTPATH_SIGNING_KEYS_FILE for a secret file) like the other serve flags.
func transformFlags(fs *flag.FlagSet, c *hphttp.TransformConfig) {
	fs.Var(signingKeysFlag{&c.SigningKeys}, "signing-keys", "keys verifying /t/ URL signatures, comma-separated; the first signs (rotation: new key first)")
	fs.BoolVar(&c.AllowUnsigned, "allow-unsigned", c.AllowUnsigned, "accept unsigned /t/unsafe/... transform URLs (development only)")
	fs.BoolVar(&c.PresetsOnly, "presets-only", c.PresetsOnly, "transform URLs may only name presets (preset:NAME, optionally f:auto)")
	fs.IntVar(&c.MaxWidth, "transform-max-width", c.MaxWidth, "largest transform output width")
	fs.IntVar(&c.MaxHeight, "transform-max-height", c.MaxHeight, "largest transform output height")
	fs.Int64Var(&c.MaxPixels, "transform-max-pixels", c.MaxPixels, "largest transform output in pixels")
}
