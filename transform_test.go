package hotpath_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hotpath/hotpath"
)

func ptr[T any](v T) *T { return &v }

func TestParseTransformSpec(t *testing.T) {
	tests := []struct {
		in   string
		want hotpath.TransformSpec
	}{
		{"-", hotpath.TransformSpec{}},
		{"w:400", hotpath.TransformSpec{Width: 400}},
		{"width:400,height:300", hotpath.TransformSpec{Width: 400, Height: 300}},
		{"w:400,h:300,fit:fill,g:smart,q:80,f:webp", hotpath.TransformSpec{Width: 400, Height: 300, Fit: hotpath.FitFill, Gravity: hotpath.GravitySmart, Quality: 80, Format: hotpath.FormatWebP}},
		{"g:center", hotpath.TransformSpec{Gravity: hotpath.GravityCentre}},
		{"f:jpg", hotpath.TransformSpec{Format: hotpath.FormatJPEG}},
		{"f:auto", hotpath.TransformSpec{Format: hotpath.FormatAuto}},
		{"bg:FF00aa", hotpath.TransformSpec{Background: []uint8{255, 0, 170}}},
		{"bg:ff00aa80", hotpath.TransformSpec{Background: []uint8{255, 0, 170, 128}}},
		{"anim:0,meta:1", hotpath.TransformSpec{Animated: ptr(false), Metadata: ptr(true)}},
		{"preset:thumb,f:auto", hotpath.TransformSpec{Preset: "thumb", Format: hotpath.FormatAuto}},
		{"p:thumb", hotpath.TransformSpec{Preset: "thumb"}},
		{"dpr:2,w:100", hotpath.TransformSpec{Width: 100, DPR: 2}},
		{"dpr:1.5", hotpath.TransformSpec{DPR: 1.5}},
		{"mode:pad,bg:000000", hotpath.TransformSpec{Fit: hotpath.FitPad, Background: []uint8{0, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := hotpath.ParseTransformSpec(tt.in)
			if err != nil {
				t.Fatalf("ParseTransformSpec(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseTransformSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTransformSpecErrors(t *testing.T) {
	tests := []struct {
		in, wantInMessage string
	}{
		{"", "empty transform options"},
		{"w", `option "w": want name:value`},
		{"w:abc", `option "w": want a whole number`},
		{"w:0", `option "w"`},
		{"w:-5", `option "w"`},
		{"w:+5", `option "w"`},
		{"w:0400", `option "w"`},
		{"h:100001", `option "h"`},
		{"w:10,width:20", `option "w": given more than once`},
		{"zoom:2", `option "zoom": unknown option`},
		{"fit:cover", `option "fit": want fit, fill, pad or force`},
		{"g:middle", `option "g"`},
		{"q:0", `option "q"`},
		{"q:101", `option "q"`},
		{"f:gif", `option "f"`},
		{"f:tiff", `option "f"`},
		{"bg:fff", `option "bg"`},
		{"bg:zzzzzz", `option "bg"`},
		{"anim:yes", `option "anim": want 0 or 1`},
		{"dpr:0", `option "dpr"`},
		{"dpr:9", `option "dpr"`},
		{"dpr:NaN", `option "dpr"`},
		{"dpr:1e0", `option "dpr"`},
		{"preset:a/b", `option "preset"`},
		{"w:100,", `want name:value`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := hotpath.ParseTransformSpec(tt.in)
			if got := hotpath.ErrorCode(err); got != hotpath.EINVALID {
				t.Fatalf("ParseTransformSpec(%q) code = %q (%v), want %q", tt.in, got, err, hotpath.EINVALID)
			}
			if msg := hotpath.ErrorMessage(err); !strings.Contains(msg, tt.wantInMessage) {
				t.Errorf("ParseTransformSpec(%q) message = %q, want it to contain %q", tt.in, msg, tt.wantInMessage)
			}
		})
	}
}

// resolve parses and resolves options under the default policy.
func resolve(t *testing.T, p hotpath.TransformPolicy, options string) (hotpath.TransformOptions, error) {
	t.Helper()
	s, err := hotpath.ParseTransformSpec(options)
	if err != nil {
		t.Fatalf("ParseTransformSpec(%q): %v", options, err)
	}
	return p.Resolve(s)
}

func TestCanonicalTransform(t *testing.T) {
	p := hotpath.DefaultTransformPolicy()
	tests := []struct {
		in, want string
	}{
		{"-", "-"},
		{"w:400", "w:400"},
		{"q:80,w:400,f:webp", "w:400,q:80,f:webp"},
		{"width:400,format:jpg", "w:400,f:jpeg"},
		{"w:400,fit:fit", "w:400"},
		{"w:400,h:300,fit:fill", "w:400,h:300,fit:fill"},
		{"w:400,h:300,fit:fill,g:centre", "w:400,h:300,fit:fill"},
		{"w:400,h:300,fit:fill,g:center", "w:400,h:300,fit:fill"},
		{"w:400,h:300,fit:fill,g:smart", "w:400,h:300,fit:fill,g:smart"},
		{"w:400,h:300,g:smart", "w:400,h:300"},   // gravity only matters for fill
		{"w:400,h:300,bg:000000", "w:400,h:300"}, // background only matters for pad
		{"w:400,h:300,fit:pad,bg:FFFFFFff", "w:400,h:300,fit:pad,bg:ffffff"},
		{"w:400,h:300,fit:pad,bg:ffffff80,f:jpeg", "w:400,h:300,fit:pad,f:jpeg,bg:ffffff"},
		{"fit:fill,g:smart", "-"}, // no size, nothing to fill
		{"w:100,dpr:2", "w:200"},
		{"w:100,h:50,dpr:1.5", "w:150,h:75"},
		{"preset:thumb", "w:200,h:200,q:80,f:jpeg"},
		{"preset:thumb,q:90", "w:200,h:200,q:90,f:jpeg"},
		{"preset:large,dpr:2,w:1000", "w:2000,h:3200,q:80,f:webp"},
		{"anim:1", "-"},
		{"anim:0", "anim:0"},
		{"anim:0,f:jpeg", "f:jpeg"}, // JPEG holds one frame anyway
		{"anim:0,f:webp", "f:webp,anim:0"},
		{"meta:0", "-"},
		{"meta:1", "meta:1"},
		{"f:auto,w:10", "w:10,f:auto"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			o, err := resolve(t, p, tt.in)
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.in, err)
			}
			got := hotpath.CanonicalTransform(o)
			if got != tt.want {
				t.Errorf("CanonicalTransform(%q) = %q, want %q", tt.in, got, tt.want)
			}
			// The canonical form resolves to itself.
			o2, err := resolve(t, p, got)
			if err != nil {
				t.Fatalf("Resolve(canonical %q): %v", got, err)
			}
			if again := hotpath.CanonicalTransform(o2); again != got {
				t.Errorf("canonical %q resolves to %q", got, again)
			}
			if hotpath.TransformHash(got) != hotpath.TransformHash(hotpath.CanonicalTransform(o2)) {
				t.Errorf("hash differs between %q and its re-parse", got)
			}
		})
	}
}

func TestTransformHash(t *testing.T) {
	a, b := hotpath.TransformHash("w:400"), hotpath.TransformHash("w:401")
	if len(a) != 32 {
		t.Errorf("len(TransformHash) = %d, want 32", len(a))
	}
	if a == b {
		t.Errorf("TransformHash(w:400) == TransformHash(w:401) = %s", a)
	}
	if a != hotpath.TransformHash("w:400") {
		t.Errorf("TransformHash is not stable")
	}
}

func TestTransformPolicyResolve(t *testing.T) {
	strict := hotpath.DefaultTransformPolicy()
	strict.MaxWidth, strict.MaxHeight, strict.MaxPixels = 1000, 800, 500_000
	allow := hotpath.DefaultTransformPolicy()
	allow.PresetsOnly = true
	tests := []struct {
		name     string
		policy   hotpath.TransformPolicy
		in       string
		wantCode string
		wantMsg  string
	}{
		{"within limits", strict, "w:1000,h:500", "", ""},
		{"too wide", strict, "w:1001", hotpath.EINVALID, `option "w": 1001 exceeds the maximum output width 1000`},
		{"too high", strict, "h:801", hotpath.EINVALID, `option "h"`},
		{"too wide by dpr", strict, "w:600,dpr:2", hotpath.EINVALID, `option "w"`},
		{"too many pixels", strict, "w:1000,h:800", hotpath.EINVALID, "output pixels"},
		{"unknown preset", strict, "preset:nope", hotpath.EINVALID, `option "preset": unknown preset "nope"`},
		{"allow-list preset", allow, "preset:thumb", "", ""},
		{"allow-list preset auto", allow, "preset:medium,f:auto", "", ""},
		{"allow-list width", allow, "w:100", hotpath.EFORBIDDEN, `option "w"`},
		{"allow-list preset and quality", allow, "preset:thumb,q:10", hotpath.EFORBIDDEN, `option "q"`},
		{"allow-list preset and explicit format", allow, "preset:thumb,f:png", hotpath.EFORBIDDEN, `option "f"`},
		{"allow-list nothing", allow, "-", hotpath.EFORBIDDEN, `option "preset"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resolve(t, tt.policy, tt.in)
			if got := hotpath.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("Resolve(%q) code = %q (%v), want %q", tt.in, got, err, tt.wantCode)
			}
			if msg := hotpath.ErrorMessage(err); !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("Resolve(%q) message = %q, want it to contain %q", tt.in, msg, tt.wantMsg)
			}
		})
	}
}

func TestTransformPolicyCheckSize(t *testing.T) {
	p := hotpath.DefaultTransformPolicy()
	p.MaxWidth, p.MaxHeight, p.MaxPixels = 4000, 4000, 4_000_000
	tests := []struct {
		opts       hotpath.TransformOptions
		srcW, srcH int
		wantErr    bool
	}{
		{hotpath.TransformOptions{Width: 2000}, 4000, 3000, false},
		{hotpath.TransformOptions{Width: 3000, Fit: hotpath.FitFill}, 1000, 3000, true}, // height follows: 9000
		{hotpath.TransformOptions{}, 4000, 3000, true},                                  // 12 MP at source size
		{hotpath.TransformOptions{Width: 1000, Height: 1000}, 8000, 100, false},
	}
	for _, tt := range tests {
		err := p.CheckSize(tt.opts, tt.srcW, tt.srcH)
		if (err != nil) != tt.wantErr {
			t.Errorf("CheckSize(%+v, %d×%d) = %v, want error %v", tt.opts, tt.srcW, tt.srcH, err, tt.wantErr)
		}
	}
}

func TestOutputSize(t *testing.T) {
	tests := []struct {
		opts         hotpath.TransformOptions
		srcW, srcH   int
		wantW, wantH int
	}{
		{hotpath.TransformOptions{}, 4000, 3000, 4000, 3000},
		{hotpath.TransformOptions{Width: 400}, 4000, 3000, 400, 300},
		{hotpath.TransformOptions{Height: 300}, 4000, 3000, 400, 300},
		{hotpath.TransformOptions{Width: 400, Height: 400}, 4000, 3000, 400, 300},
		{hotpath.TransformOptions{Width: 400, Height: 400, Fit: hotpath.FitInside}, 3000, 4000, 300, 400},
		{hotpath.TransformOptions{Width: 400, Height: 400, Fit: hotpath.FitFill}, 4000, 3000, 400, 400},
		{hotpath.TransformOptions{Width: 400, Height: 100, Fit: hotpath.FitPad}, 4000, 3000, 400, 100},
		{hotpath.TransformOptions{Width: 400, Height: 100, Fit: hotpath.FitForce}, 4000, 3000, 400, 100},
		{hotpath.TransformOptions{Width: 8000}, 4000, 3000, 4000, 3000}, // fit never enlarges
		{hotpath.TransformOptions{Width: 8000, Fit: hotpath.FitFill}, 4000, 3000, 8000, 6000},
		{hotpath.TransformOptions{Height: 150, Fit: hotpath.FitPad}, 4000, 3000, 200, 150},
		{hotpath.TransformOptions{Width: 100, Height: 100}, 200, 300, 67, 100}, // never 67×101
		{hotpath.TransformOptions{Height: 100}, 200, 300, 67, 100},
		// The engine caps fit sizes, and the source size, at 8192 a side.
		{hotpath.TransformOptions{}, 10000, 1000, 8192, 819},
		{hotpath.TransformOptions{}, 1000, 10000, 819, 8192},
		{hotpath.TransformOptions{}, 8192, 8192, 8192, 8192},
		{hotpath.TransformOptions{Width: 500}, 500, 20000, 205, 8192},
		{hotpath.TransformOptions{Width: 9000, Fit: hotpath.FitFill}, 9000, 100, 9000, 100}, // boxes are as asked
	}
	for _, tt := range tests {
		w, h := hotpath.OutputSize(tt.opts, tt.srcW, tt.srcH)
		if w != tt.wantW || h != tt.wantH {
			t.Errorf("OutputSize(%+v, %d×%d) = %d×%d, want %d×%d", tt.opts, tt.srcW, tt.srcH, w, h, tt.wantW, tt.wantH)
		}
	}
}

func TestLimitsOutputSize(t *testing.T) {
	tests := []struct {
		maxSide      int
		opts         hotpath.TransformOptions
		srcW, srcH   int
		wantW, wantH int
	}{
		{64, hotpath.TransformOptions{}, 200, 300, 43, 64},
		{64, hotpath.TransformOptions{}, 64, 20, 64, 20},
		{64, hotpath.TransformOptions{Width: 60}, 200, 300, 43, 64},
		{64, hotpath.TransformOptions{Width: 60, Fit: hotpath.FitForce}, 200, 300, 60, 90},
		{0, hotpath.TransformOptions{}, 20000, 100, 20000, 100}, // 0: no bound
	}
	for _, tt := range tests {
		l := hotpath.Limits{MaxOutputSide: tt.maxSide}
		if w, h := l.OutputSize(tt.opts, tt.srcW, tt.srcH); w != tt.wantW || h != tt.wantH {
			t.Errorf("Limits{MaxOutputSide: %d}.OutputSize(%+v, %d×%d) = %d×%d, want %d×%d", tt.maxSide, tt.opts, tt.srcW, tt.srcH, w, h, tt.wantW, tt.wantH)
		}
	}
}

// TestFitScaleStaysInsideBox: over many sources and boxes, a fit scaled by
// FitScale and rounded by ScaledSide never passes the box or the side limit.
func TestFitScaleStaysInsideBox(t *testing.T) {
	for srcW := 1; srcW <= 400; srcW += 7 {
		for srcH := 1; srcH <= 400; srcH += 11 {
			for _, box := range [][2]int{{100, 100}, {0, 100}, {100, 0}, {67, 45}, {1, 1}, {333, 0}} {
				s := hotpath.FitScale(srcW, srcH, box[0], box[1], 250)
				w, h := hotpath.ScaledSide(srcW, s), hotpath.ScaledSide(srcH, s)
				if box[0] > 0 && w > box[0] || box[1] > 0 && h > box[1] || w > 250 || h > 250 || w > srcW || h > srcH {
					t.Fatalf("%d×%d in %d×%d: %d×%d", srcW, srcH, box[0], box[1], w, h)
				}
			}
		}
	}
}

func TestParseTransformURL(t *testing.T) {
	tests := []struct {
		path    string
		want    hotpath.TransformURL
		wantErr string
	}{
		{path: "/t/sig/w:400/0123abcd", want: hotpath.TransformURL{Signature: "sig", Options: "w:400", ImageID: "0123abcd"}},
		{path: "/t/sig/w:400/0123abcd.webp", want: hotpath.TransformURL{Signature: "sig", Options: "w:400", ImageID: "0123abcd", Format: hotpath.FormatWebP}},
		{path: "/t/sig/-/0123abcd.jpg", want: hotpath.TransformURL{Signature: "sig", Options: "-", ImageID: "0123abcd", Format: hotpath.FormatJPEG}},
		{path: "/t/sig/w:400/0123abcd.gif", wantErr: `extension "gif"`},
		{path: "/t/sig/w:400/0123abcd.jpg.png", wantErr: `extension "jpg.png"`},
		{path: "/t/sig/w:400/a$b", wantErr: "image id"},
		{path: "/t/sig/w:400/.jpg", wantErr: "image id"},
		{path: "/t/sig/w:400", wantErr: "transform path must be"},
		{path: "/t/sig/w:400/a/b", wantErr: "transform path must be"},
		{path: "/t//w:400/abc", wantErr: "empty signature"},
		{path: "/x/sig/w:400/abc", wantErr: "must start with"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := hotpath.ParseTransformURL(tt.path)
			if tt.wantErr != "" {
				if hotpath.ErrorCode(err) != hotpath.EINVALID || !strings.Contains(hotpath.ErrorMessage(err), tt.wantErr) {
					t.Fatalf("ParseTransformURL(%q) = %v, want EINVALID containing %q", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTransformURL(%q): %v", tt.path, err)
			}
			if got != tt.want {
				t.Errorf("ParseTransformURL(%q) = %+v, want %+v", tt.path, got, tt.want)
			}
		})
	}
}

func TestTransformURLSpecExtension(t *testing.T) {
	tests := []struct {
		path     string
		wantFmt  hotpath.Format
		wantCode string
	}{
		{"/t/s/w:10/abc.webp", hotpath.FormatWebP, ""},
		{"/t/s/w:10,f:webp/abc.webp", hotpath.FormatWebP, ""},
		{"/t/s/w:10,f:jpg/abc.jpeg", hotpath.FormatJPEG, ""},
		{"/t/s/w:10,f:png/abc.webp", "", hotpath.EINVALID},
		{"/t/s/w:10,f:auto/abc.webp", "", hotpath.EINVALID},
		{"/t/s/w:10/abc", "", ""},
	}
	for _, tt := range tests {
		u, err := hotpath.ParseTransformURL(tt.path)
		if err != nil {
			t.Fatalf("ParseTransformURL(%q): %v", tt.path, err)
		}
		s, err := u.Spec()
		if got := hotpath.ErrorCode(err); got != tt.wantCode {
			t.Errorf("Spec(%q) code = %q (%v), want %q", tt.path, got, err, tt.wantCode)
			continue
		}
		if err == nil && s.Format != tt.wantFmt {
			t.Errorf("Spec(%q).Format = %q, want %q", tt.path, s.Format, tt.wantFmt)
		}
	}
}

const (
	keyOld = "old-key-0123456789abcdef"
	keyNew = "new-key-fedcba9876543210"
)

func TestTransformSigner(t *testing.T) {
	signOld, err := hotpath.NewTransformSigner([]string{keyOld}, false)
	if err != nil {
		t.Fatal(err)
	}
	// After rotation the new key signs and the old one still verifies.
	rotated, err := hotpath.NewTransformSigner([]string{keyNew, keyOld}, false)
	if err != nil {
		t.Fatal(err)
	}
	signNew, err := hotpath.NewTransformSigner([]string{keyNew}, false)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := hotpath.NewTransformSigner(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	part := "/w:400,f:webp/0123abcd"
	good := signOld.Sign(part)
	tests := []struct {
		name     string
		verifier *hotpath.TransformSigner
		sig      string
		part     string
		wantCode string
	}{
		{"good", signOld, good, part, ""},
		{"rotated: old signature, new key first", rotated, good, part, ""},
		{"rotated: new signature", rotated, signNew.Sign(part), part, ""},
		{"removed key", signNew, good, part, hotpath.EFORBIDDEN},
		{"tampered options", signOld, good, "/w:4000,f:webp/0123abcd", hotpath.EFORBIDDEN},
		{"tampered image", signOld, good, "/w:400,f:webp/0123abce", hotpath.EFORBIDDEN},
		{"tampered extension", signOld, good, "/w:400,f:webp/0123abcd.png", hotpath.EFORBIDDEN},
		{"flipped signature", signOld, flip(good), part, hotpath.EFORBIDDEN},
		{"padded signature", signOld, good + "=", part, hotpath.EFORBIDDEN},
		{"truncated signature", signOld, good[:20], part, hotpath.EFORBIDDEN},
		{"garbage", signOld, "!!!", part, hotpath.EFORBIDDEN},
		{"unsigned refused", signOld, hotpath.UnsignedToken, part, hotpath.EFORBIDDEN},
		{"unsigned allowed in dev", dev, hotpath.UnsignedToken, part, ""},
		{"dev without keys refuses signatures", dev, good, part, hotpath.EFORBIDDEN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.verifier.Verify(tt.sig, tt.part)
			if got := hotpath.ErrorCode(err); got != tt.wantCode {
				t.Errorf("Verify(%q, %q) = %v, want code %q", tt.sig, tt.part, err, tt.wantCode)
			}
		})
	}
	if len(good) != 43 || strings.ContainsAny(good, "+/=") {
		t.Errorf("signature %q is not 43 characters of unpadded base64url", good)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

// TestTransformSignerKnownAnswer pins the signature algorithm, which external
// signers (the Python client, CDN edge functions) reproduce: unpadded
// base64url of HMAC-SHA256(key, "/{options}/{image_id}[.ext]").
func TestTransformSignerKnownAnswer(t *testing.T) {
	s, err := hotpath.NewTransformSigner([]string{"secret-key-for-tests"}, false)
	if err != nil {
		t.Fatal(err)
	}
	// printf %s '/w:400,f:webp/0123abcd.webp' | openssl dgst -sha256 -hmac secret-key-for-tests -binary | basenc --base64url | tr -d =
	const want = "/t/b_PdIkjG4Z3cKjANNc38YRLRoGMID2cGoFhZNNgsZIU/w:400,f:webp/0123abcd.webp"
	if got := s.Path("w:400,f:webp", "0123abcd", hotpath.FormatWebP); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}

func TestNewTransformSignerShortKey(t *testing.T) {
	if _, err := hotpath.NewTransformSigner([]string{"short"}, false); hotpath.ErrorCode(err) != hotpath.EINVALID {
		t.Errorf("NewTransformSigner(short key) = %v, want EINVALID", err)
	}
}

func TestParseSigningKeys(t *testing.T) {
	got := hotpath.ParseSigningKeys(" a , b,,c ")
	if want := []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSigningKeys = %q, want %q", got, want)
	}
}

// FuzzParseTransform checks that the parser never panics, that every error is
// EINVALID, and that the canonical forms are fixed points: the spec's String
// parses back to the same spec, and a resolved transform's canonical form
// resolves to itself.
func FuzzParseTransform(f *testing.F) {
	for _, seed := range []string{"-", "w:400,h:300,fit:fill,g:smart,q:80,f:webp", "preset:thumb,dpr:2", "bg:ff00aa80,fit:pad,w:1,h:1", "anim:0,meta:1,f:auto", "w:1,w:2", "dpr:0.005", "q:,", ":"} {
		f.Add(seed)
	}
	p := hotpath.DefaultTransformPolicy()
	f.Fuzz(func(t *testing.T, in string) {
		s, err := hotpath.ParseTransformSpec(in)
		if err != nil {
			if code := hotpath.ErrorCode(err); code != hotpath.EINVALID {
				t.Fatalf("ParseTransformSpec(%q) code = %q", in, code)
			}
			return
		}
		s2, err := hotpath.ParseTransformSpec(s.String())
		if err != nil {
			t.Fatalf("String() of %q = %q does not parse: %v", in, s.String(), err)
		}
		if !reflect.DeepEqual(s, s2) {
			t.Fatalf("spec %q → %q → %+v, want %+v", in, s.String(), s2, s)
		}
		o, err := p.Resolve(s)
		if err != nil {
			if code := hotpath.ErrorCode(err); code != hotpath.EINVALID {
				t.Fatalf("Resolve(%q) code = %q", in, code)
			}
			return
		}
		c := hotpath.CanonicalTransform(o)
		cs, err := hotpath.ParseTransformSpec(c)
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", c, in, err)
		}
		o2, err := p.Resolve(cs)
		if err != nil {
			t.Fatalf("canonical %q of %q does not resolve: %v", c, in, err)
		}
		if c2 := hotpath.CanonicalTransform(o2); c2 != c {
			t.Fatalf("canonical %q of %q resolves to %q", c, in, c2)
		}
	})
}
