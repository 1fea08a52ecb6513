package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/hotpathtest/imagetest"
)

// consoleScreenshots makes TestConsole write the README's screenshots:
// go test ./cmd/hotpath -run TestConsole -console-screenshots
var consoleScreenshots = flag.Bool("console-screenshots", false, "write docs/console-*.png from the browser test")

// chromiumPath finds Debian's chromium (scripts/deps.sh --test installs it).
// Without it the browser tests skip, except in CI, where they must run.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: scripts/deps.sh --test installs it")
	}
	t.Skip("chromium is not installed (scripts/deps.sh --test installs it); the console's browser tests need it")
	return ""
}

// browser starts a headless chromium with a fresh profile and returns a
// tab's context. When the test fails, the page as it is is saved as
// failure.png in a temp dir named after the test, which outlives it.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tab, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	if err := chromedp.Do(tab); err != nil { // starts the browser, for as long as tab lives
		cancelTab()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	ctx, cancelTime := context.WithTimeout(tab, 100*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			// Kept after the test (t.TempDir would go with it), to look at.
			dir, err := os.MkdirTemp("", "hotpath-"+t.Name()+"-*")
			if err != nil {
				t.Log(err)
				return
			}
			sctx, cancel := context.WithTimeout(tab, 5*time.Second)
			png, err := chromedp.Run(sctx, chromedp.FullScreenshot(90))
			if err != nil {
				t.Logf("no screenshot: %v", err)
			} else {
				p := filepath.Join(dir, "failure.png")
				if os.WriteFile(p, png, 0o644) == nil {
					t.Logf("screenshot of the page: %s", p)
				}
			}
			cancel()
		}
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	return ctx
}

// do runs browser actions and fails the test on the first error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	t.Logf("%s: %s", time.Now().Format("15:04:05.000"), what)
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitFor polls a JavaScript condition until it is true.
func waitFor(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	pctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(pctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('main').innerText`))
		t.Fatalf("waiting for %s (%s): %v\npage text:\n%s", what, expr, err, state)
	}
}

// eval returns the value of the JavaScript expression expr.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// screenshot writes the page to docs/NAME when -console-screenshots is set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*consoleScreenshots {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// screenshotViewport writes what the screen shows to docs/NAME when
// -console-screenshots is set.
func screenshotViewport(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if !*consoleScreenshots {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", name), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// consoleServer starts the real Main with a transform signing key and
// returns it with its admin key.
func consoleServer(t *testing.T) (*Main, string) {
	t.Helper()
	cfg := testConfig(t)
	cfg.HTTP.Transforms.SigningKeys = []string{"console-test-signing-key-0123456789"}
	m, _ := startMain(t, cfg)
	return m, m.AdminKey
}

func signIn(t *testing.T, ctx context.Context, key string) {
	t.Helper()
	do(t, ctx, "sign in",
		chromedp.WaitVisible(chromedp.ID("apikey")),
		chromedp.SendKeys(chromedp.ID("apikey"), key),
		chromedp.Click(chromedp.CSS(`#signin-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("nav")))
}

// goTo follows the nav link to path, as a user clicks it.
func goTo(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	t.Logf("%s: going to %s", time.Now().Format("15:04:05.000"), path)
	do(t, ctx, "open "+path, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#nav a[href=%q]`, path))))
	// Focus moves to the new page's heading, for keyboard and screen reader users.
	waitFor(t, ctx, "the page "+path, fmt.Sprintf(`location.pathname === %q && document.activeElement.tagName === 'H1'`, path))
}

// TestConsole drives the web console in chromium against the real server:
// sign in, upload (one file is not an image), the gallery, an image's page
// and its deletion, the transform playground, a batch, the health page,
// and a read-only key that sees no upload or delete control.
func TestConsole(t *testing.T) {
	m, admin := consoleServer(t)
	ctx := browser(t)

	dir := t.TempDir()
	landscape := imagetest.WriteImage(t, "landscape.png", imagetest.Image(t, hotpath.FormatPNG, 640, 480))
	portrait := imagetest.WriteImage(t, "portrait.jpg", imagetest.Image(t, hotpath.FormatJPEG, 600, 900))
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("these are notes, not an image\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	do(t, ctx, "open the console", chromedp.Navigate(m.URL()+"/"))
	signIn(t, ctx, admin)
	var tenant, scope, path string
	tenant = eval[string](t, ctx, `document.getElementById('tenant').textContent`)
	scope = eval[string](t, ctx, `document.getElementById('scope').textContent`)
	path = eval[string](t, ctx, `location.pathname`)
	if tenant != DefaultTenantID || scope != "admin key" || path != "/ui/upload" {
		t.Fatalf("signed in: tenant %q, scope %q, page %s; want %q, \"admin key\", /ui/upload", tenant, scope, path, DefaultTenantID)
	}

	// Upload three files, one at a time each with its progress bar.
	do(t, ctx, "choose files", chromedp.SetUploadFiles(chromedp.ID("files"), []string{landscape, portrait, notes}))
	waitFor(t, ctx, "three upload results",
		`document.querySelectorAll('#uploads li.upload[data-state=stored]').length === 2 && document.querySelectorAll('#uploads li.upload[data-state=failed]').length === 1`)
	// The page shows the error the API gives for that file.
	want := request(t, "POST", m.URL()+"/v1/images?filename=notes.txt", admin, strings.NewReader("these are notes, not an image\n"), nil)
	var apiErr struct {
		Error struct{ Code, Message string }
	}
	want.decode(t, &apiErr)
	var shown struct{ Code, Text, Bar string }
	shown = eval[struct{ Code, Text, Bar string }](t, ctx, `(() => { const li = document.querySelector('#uploads li[data-file="notes.txt"]');
		return {Code: li.querySelector('.code').textContent, Text: li.querySelector('.error').textContent,
			Bar: li.querySelector('progress').value + '/' + li.querySelector('progress').max}; })()`)
	if shown.Code != apiErr.Error.Code || !strings.Contains(shown.Text, apiErr.Error.Message) {
		t.Errorf("notes.txt shows %q, want code %q and message %q", shown.Text, apiErr.Error.Code, apiErr.Error.Message)
	}
	var variants int
	variants = eval[int](t, ctx, `document.querySelectorAll('#uploads li[data-file="landscape.png"] .variants-inline li').length`)
	if variants != 3 {
		t.Errorf("landscape.png shows %d variants, want 3 (thumb, medium, large)", variants)
	}
	screenshot(t, ctx, "console-upload.png")

	// The gallery: both images, newest first, thumbnails loaded.
	goTo(t, ctx, "/ui/gallery")
	waitFor(t, ctx, "two thumbnails",
		`[...document.querySelectorAll('#gallery li.card img')].filter(i => i.complete && i.naturalWidth > 0).length === 2`)
	var list struct {
		Images []struct{ ID, Filename string }
	}
	request(t, "GET", m.URL()+"/v1/images", admin, nil, nil).decode(t, &list)
	var order []string
	order = eval[[]string](t, ctx, `[...document.querySelectorAll('#gallery li.card')].map(c => c.dataset.id)`)
	if len(list.Images) != 2 || len(order) != 2 || order[0] != list.Images[0].ID || order[1] != list.Images[1].ID {
		t.Fatalf("gallery shows %v, the API lists %+v", order, list.Images)
	}
	var thumbWidth int
	thumbWidth = eval[int](t, ctx, `Math.max(...[...document.querySelectorAll('#gallery img')].map(i => Math.max(i.naturalWidth, i.naturalHeight)))`)
	if thumbWidth != 200 {
		t.Errorf("thumbnails' longest side %d, want 200 (the thumb variant)", thumbWidth)
	}
	screenshot(t, ctx, "console-gallery.png")
	do(t, ctx, "filter", chromedp.SendKeys(chromedp.ID("filter"), "portr"))
	waitFor(t, ctx, "the filter to leave one card",
		`[...document.querySelectorAll('#gallery li.card')].filter(c => !c.hidden).map(c => c.dataset.filename).join() === 'portrait.jpg'`)

	// One image: its original and three variants side by side, then delete it.
	var landscapeID, portraitID string
	for _, img := range list.Images {
		if img.Filename == "landscape.png" {
			landscapeID = img.ID
		} else {
			portraitID = img.ID
		}
	}
	eval[bool](t, ctx, `(() => { const f = document.getElementById('filter'); f.value = ''; return f.dispatchEvent(new Event('input')); })()`)
	do(t, ctx, "open landscape.png", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#gallery li[data-id=%q] a`, landscapeID))))
	waitFor(t, ctx, "the original and three variants",
		`[...document.querySelectorAll('figure.variant img')].filter(i => i.complete && i.naturalWidth > 0).length === 4`)
	var sizes []string
	sizes = eval[[]string](t, ctx, `[...document.querySelectorAll('figure.variant')].map(f => f.dataset.variant + ' ' + f.querySelector('img').naturalWidth + 'x' + f.querySelector('img').naturalHeight)`)
	if got := strings.Join(sizes, ", "); got != "original 640x480, thumb 200x150, medium 640x480, large 640x480" {
		t.Errorf("variants shown: %s", got)
	}
	do(t, ctx, "delete", chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("confirm-delete")),
		chromedp.Click(chromedp.ID("confirm-delete")))
	waitFor(t, ctx, "the gallery without it", `location.pathname === '/ui/gallery' && document.querySelectorAll('#gallery li.card').length === 1`)
	request(t, "GET", m.URL()+"/v1/images/"+landscapeID, admin, nil, nil).wantError(t, http.StatusNotFound, "not_found")

	// The playground: the server signs, the browser shows the result.
	goTo(t, ctx, "/ui/playground")
	waitFor(t, ctx, "the image list", fmt.Sprintf(`document.getElementById('pg-image').value === %q`, portraitID))
	do(t, ctx, "set options",
		chromedp.SetValue(chromedp.ID("pg-width"), "150"), chromedp.SetValue(chromedp.ID("pg-height"), "100"),
		chromedp.SetValue(chromedp.ID("pg-fit"), "fill"), chromedp.SetValue(chromedp.ID("pg-format"), "webp"),
		chromedp.Click(chromedp.ID("run")))
	waitFor(t, ctx, "a 150×100 result", `document.getElementById('result').naturalWidth === 150 && document.getElementById('result').naturalHeight === 100`)
	var signed string
	signed = eval[string](t, ctx, `document.getElementById('signed-url').value`)
	if !strings.HasPrefix(signed, m.URL()+"/t/") || !strings.HasSuffix(signed, "/w:150,h:100,fit:fill,f:webp/"+portraitID) {
		t.Fatalf("signed URL %q", signed)
	}
	res := request(t, "GET", signed, "", nil, nil)
	res.wantStatus(t, http.StatusOK)
	if w, h, f := imageSize(t, res.body); w != 150 || h != 100 || f != hotpath.FormatWebP {
		t.Errorf("the signed URL serves %dx%d %s, want 150x100 webp", w, h, f)
	}

	// A batch, followed to its end, on the upload page and the jobs page.
	goTo(t, ctx, "/ui/upload")
	do(t, ctx, "batch upload", chromedp.Click(chromedp.ID("opt-batch")),
		chromedp.SetUploadFiles(chromedp.ID("files"), []string{landscape, portrait, notes}))
	waitFor(t, ctx, "the batch to finish", `document.querySelector('#uploads li.batch[data-done=true]') !== null`)
	var counts string
	counts = eval[string](t, ctx, `document.querySelector('#uploads li.batch .counts').textContent`)
	if counts != "3 / 3 (1 failed)" {
		t.Errorf("batch counts %q, want \"3 / 3 (1 failed)\"", counts)
	}

	// An asynchronous upload shows processing until its job ends, then its
	// variants; the states a row goes through are recorded as they change.
	do(t, ctx, "async upload", chromedp.Click(chromedp.ID("opt-batch")), chromedp.Click(chromedp.ID("opt-async")))
	eval[bool](t, ctx, `(window.seenStates = [], new MutationObserver((ms) => { for (const m of ms) if (m.target.dataset && m.target.dataset.file === 'portrait.jpg' && m.attributeName === 'data-state') window.seenStates.push(m.target.dataset.state); })
		.observe(document.getElementById('uploads'), {subtree: true, attributes: true}), true)`)
	do(t, ctx, "choose one file", chromedp.SetUploadFiles(chromedp.ID("files"), []string{portrait}))
	waitFor(t, ctx, "the async upload to end with its variants",
		`(() => { const li = document.querySelector('#uploads li.upload[data-file="portrait.jpg"]'); return li && li.dataset.state === 'stored' && li.querySelectorAll('.variants-inline li').length === 3; })()`)
	if seen := eval[[]string](t, ctx, `window.seenStates`); !slices.Contains(seen, "processing") {
		t.Errorf("the async upload went through %v, never processing", seen)
	}

	// A file dropped on the drop zone is uploaded like a chosen one.
	eval[bool](t, ctx, `(() => { const dt = new DataTransfer(); dt.items.add(new File(['not an image'], 'dropped.txt', {type: 'text/plain'}));
		return document.getElementById('drop').dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})); })()`)
	waitFor(t, ctx, "the dropped file's error",
		`(() => { const li = document.querySelector('#uploads li[data-file="dropped.txt"]'); return li && li.dataset.state === 'failed' && li.querySelector('.code').textContent === 'unsupported'; })()`)

	goTo(t, ctx, "/ui/jobs")
	waitFor(t, ctx, "the batch and the job on the jobs page",
		`(() => { const b = document.querySelector('#jobs li[data-kind=batch]'); const j = document.querySelector('#jobs li[data-kind=job]');
			return b && b.dataset.done === 'true' && b.querySelector('.failures li') !== null && b.querySelector('.failures').textContent.includes('notes.txt') &&
				j && j.dataset.done === 'true' && j.querySelector('.state').dataset.state === 'succeeded'; })()`)

	// Health: backends up and numbers from /metrics.
	goTo(t, ctx, "/ui/health")
	waitFor(t, ctx, "backends and numbers",
		`document.getElementById('ready').dataset.ready === 'true' && document.querySelectorAll("#backends li[data-up=true]").length >= 3 && document.querySelectorAll("#backends li[data-up=false]").length === 0 && document.querySelector('[data-number=images]').textContent === '5'`)

	// A read-only key: no upload page, no upload or delete control.
	reader := newKey(t, m, DefaultTenantID, hotpath.ScopeRead)
	do(t, ctx, "sign out", chromedp.Click(chromedp.ID("signout")))
	// By keyboard alone: the key field has the focus after signing out.
	waitFor(t, ctx, "the focus in the key field", `document.activeElement.id === 'apikey'`)
	do(t, ctx, "sign in by keyboard", chromedp.KeyEvent(reader+kb.Enter), chromedp.WaitVisible(chromedp.ID("nav")))
	waitFor(t, ctx, "the gallery", `location.pathname === '/ui/gallery' && document.querySelectorAll('#gallery li.card').length > 0`)
	var controls struct{ Scope, UploadLinkHidden, FileInputs string }
	controls = eval[struct{ Scope, UploadLinkHidden, FileInputs string }](t, ctx, `({Scope: document.getElementById('scope').textContent,
		UploadLinkHidden: String(document.querySelector('#nav a[href="/ui/upload"]').closest('li').hidden),
		FileInputs: String(document.querySelectorAll('input[type=file]').length)})`)
	if controls != (struct{ Scope, UploadLinkHidden, FileInputs string }{"read-only key", "true", "0"}) {
		t.Errorf("read-only key: %+v", controls)
	}
	do(t, ctx, "open /ui/upload by URL", chromedp.Navigate(m.URL()+"/ui/upload"))
	waitFor(t, ctx, "the gallery instead", `location.pathname === '/ui/gallery' && document.querySelector('#nav') && !document.getElementById('nav').hidden`)
	do(t, ctx, "open an image", chromedp.Click(chromedp.CSS(`#gallery li.card a`)))
	waitFor(t, ctx, "its page", `document.querySelectorAll('figure.variant').length > 0`)
	var deleteButtons int
	deleteButtons = eval[int](t, ctx, `document.querySelectorAll('#delete, #confirm-delete, input[type=file]').length`)
	if deleteButtons != 0 {
		t.Errorf("a read-only key sees %d upload or delete controls", deleteButtons)
	}

	// Infinite scroll: more images than a page (24) of the cursor API, all
	// reached by scrolling to the end of the gallery.
	small := imagetest.Image(t, hotpath.FormatPNG, 48, 32)
	for i := range 30 {
		request(t, "POST", fmt.Sprintf("%s/v1/images?filename=extra-%02d.png", m.URL(), i), admin, bytes.NewReader(small), nil).wantStatus(t, http.StatusCreated)
	}
	var all struct{ Images []struct{ ID string } }
	request(t, "GET", m.URL()+"/v1/images?limit=1000", admin, nil, nil).decode(t, &all)
	goTo(t, ctx, "/ui/gallery")
	waitFor(t, ctx, "a first page", `document.querySelectorAll('#gallery li.card').length >= 24`)
	waitFor(t, ctx, "every image, scrolling down", fmt.Sprintf(
		`(window.scrollTo(0, document.body.scrollHeight), document.querySelectorAll('#gallery li.card').length === %d)`, len(all.Images)))

	// A phone-width screen in dark mode: nothing wider than the screen, the
	// dark palette applied.
	do(t, ctx, "a phone in dark mode", chromedp.EmulateViewport(390, 844), chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	}))
	for _, path := range []string{"/ui/gallery", "/ui/playground", "/ui/health"} {
		goTo(t, ctx, path)
		waitFor(t, ctx, path+" at phone width in dark mode",
			`document.documentElement.scrollWidth <= window.innerWidth && getComputedStyle(document.body).backgroundColor === 'rgb(20, 20, 19)'`)
		if path == "/ui/gallery" {
			do(t, ctx, "scroll to the top", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Run(ctx, chromedp.Evaluate[int](`window.scrollTo(0, 0), 0`))
				return err
			}))
			screenshotViewport(t, ctx, "console-phone-dark.png")
		}
	}
}

// TestConsoleHeaders checks that the console is served with its strict CSP
// and loads nothing from elsewhere.
func TestConsoleHeaders(t *testing.T) {
	m, _ := newTestServer(t)
	for _, p := range []string{"/", "/ui/gallery", "/ui/main.js", "/ui/style.css"} {
		res := request(t, "GET", m.URL()+p, "", nil, nil)
		res.wantStatus(t, http.StatusOK)
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: Content-Security-Policy %q", p, csp)
		}
		if strings.Contains(string(res.body), "://") && strings.HasSuffix(p, ".js") {
			t.Errorf("%s names another origin", p)
		}
	}
	js := request(t, "GET", m.URL()+"/ui/main.js", "", nil, nil)
	if ct := js.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("main.js Content-Type %q", ct)
	}
	page := request(t, "GET", m.URL()+"/ui/images/0123", "", nil, nil)
	if !strings.Contains(string(page.body), `<script type="module" src="/ui/main.js">`) {
		t.Errorf("a console path does not get the page: %s", page.body)
	}
	// The API keeps its JSON 404 for what is neither a route nor the console.
	request(t, "GET", m.URL()+"/nothing", "", nil, nil).wantError(t, http.StatusNotFound, "not_found")
}
