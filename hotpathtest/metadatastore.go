package hotpathtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotpath/hotpath"
)

// TestMetadataStore runs the MetadataStore contract, as hotpath.MetadataStore's
// doc comments state it, against the stores open returns. open is called
// once per subtest and must return an empty store; the suite closes it.
func TestMetadataStore(t *testing.T, open func(t *testing.T) hotpath.MetadataStore) {
	t.Helper()
	runContract(t, open, []contractCase[hotpath.MetadataStore]{
		{"Ping", testMetaPing},
		{"Tenants", testMetaTenants},
		{"APIKeys", testMetaAPIKeys},
		{"APIKeyRevoke", testMetaAPIKeyRevoke},
		{"ImageRoundTrip", testMetaImageRoundTrip},
		{"ImageDefaults", testMetaImageDefaults},
		{"ImageConflicts", testMetaImageConflicts},
		{"ImageTenantIsolation", testMetaImageIsolation},
		{"ListImagesPagination", testMetaListImages},
		{"DeleteImageRemovesVariants", testMetaDeleteImage},
		{"UpdateImageStatus", testMetaUpdateImageStatus},
		{"PutVariantIdempotent", testMetaPutVariant},
		{"TransformsNotLoadedWithImage", testMetaTransformsNotLoaded},
		{"Jobs", testMetaJobs},
		{"ReconcileQueries", testMetaReconcileQueries},
		{"Batches", testMetaBatches},
		{"ConcurrentWrites", testMetaConcurrentWrites},
	})
}

// CreateTenant stores a tenant named name and returns it, failing the test on error.
func CreateTenant(t *testing.T, s hotpath.MetadataStore, name string) *hotpath.Tenant {
	t.Helper()
	tn := &hotpath.Tenant{ID: hotpath.NewID(), Name: name}
	if err := s.CreateTenant(context.Background(), tn); err != nil {
		t.Fatalf("CreateTenant(%q): %v", name, err)
	}
	return tn
}

// NewImage returns an unsaved ready JPEG image of tenantID with variants of
// the given names, all fields set, as an upload would record it.
func NewImage(tenantID string, variants ...string) *hotpath.Image {
	id := hotpath.NewID()
	img := &hotpath.Image{
		ID: id, TenantID: tenantID, Filename: "photo " + id[24:] + ".jpg", Format: hotpath.FormatJPEG,
		Width: 4000, Height: 3000, Bytes: 3_700_000, SHA256: strings.Repeat("ab", 32), Status: hotpath.ImageReady,
		Variants: []hotpath.Variant{},
	}
	for i, name := range variants {
		img.Variants = append(img.Variants, hotpath.Variant{
			ImageID: id, Name: name, Format: hotpath.FormatWebP, Width: 200 * (i + 1), Height: 150 * (i + 1),
			Bytes: int64(1000 * (i + 1)), BlobKey: hotpath.VariantKey(tenantID, id, name),
		})
	}
	return img
}

// CreateImage stores a new image of tenantID with variants of the given names and returns it.
func CreateImage(t *testing.T, s hotpath.MetadataStore, tenantID string, variants ...string) *hotpath.Image {
	t.Helper()
	img := NewImage(tenantID, variants...)
	if err := s.CreateImage(context.Background(), img); err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	return img
}

// ts renders a time for comparison: instant and precision, not location.
func ts(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func fmtTenant(tn *hotpath.Tenant) string {
	return fmt.Sprintf("{ID:%s Name:%q CreatedAt:%s}", tn.ID, tn.Name, ts(tn.CreatedAt))
}

func fmtKey(k *hotpath.APIKey) string {
	revoked := "nil"
	if k.RevokedAt != nil {
		revoked = ts(*k.RevokedAt)
	}
	return fmt.Sprintf("{ID:%s TenantID:%s Name:%q Prefix:%q Hash:%x Scope:%s CreatedAt:%s RevokedAt:%s}",
		k.ID, k.TenantID, k.Name, k.Prefix, k.Hash, k.Scope, ts(k.CreatedAt), revoked)
}

func fmtVariant(v hotpath.Variant) string {
	return fmt.Sprintf("{ImageID:%s Name:%q Format:%s %dx%d Bytes:%d BlobKey:%q CreatedAt:%s}",
		v.ImageID, v.Name, v.Format, v.Width, v.Height, v.Bytes, v.BlobKey, ts(v.CreatedAt))
}

func fmtImage(img *hotpath.Image) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{ID:%s TenantID:%s Filename:%q Format:%s %dx%d Bytes:%d SHA256:%s Status:%s Error:%q CreatedAt:%s Variants:[",
		img.ID, img.TenantID, img.Filename, img.Format, img.Width, img.Height, img.Bytes, img.SHA256, img.Status, img.Error, ts(img.CreatedAt))
	for i, v := range img.Variants {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(fmtVariant(v))
	}
	b.WriteString("]}")
	return b.String()
}

func fmtJob(j *hotpath.Job) string {
	result := ""
	if len(j.Result) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, j.Result); err != nil {
			result = "invalid JSON " + string(j.Result)
		} else {
			result = buf.String()
		}
	}
	return fmt.Sprintf("{ID:%s TenantID:%s Kind:%s ImageID:%s BatchID:%s Filename:%q State:%s Attempts:%d Error:%q Result:%s CreatedAt:%s UpdatedAt:%s}",
		j.ID, j.TenantID, j.Kind, j.ImageID, j.BatchID, j.Filename, j.State, j.Attempts, j.Error, result, ts(j.CreatedAt), ts(j.UpdatedAt))
}

func fmtBatch(b *hotpath.Batch) string {
	return fmt.Sprintf("{ID:%s TenantID:%s Total:%d Queued:%d Running:%d Succeeded:%d Failed:%d CreatedAt:%s}",
		b.ID, b.TenantID, b.Total, b.Queued, b.Running, b.Succeeded, b.Failed, ts(b.CreatedAt))
}

// same fails the test when got and want render differently.
func same(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got  %s\n want %s", what, got, want)
	}
}

// oddTime is a time with nanoseconds and a zone, to check normalisation.
func oddTime() time.Time {
	return time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600))
}

func testMetaPing(t *testing.T, s hotpath.MetadataStore) {
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func testMetaTenants(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	in := &hotpath.Tenant{ID: hotpath.NewID(), Name: "acme", CreatedAt: oddTime()}
	if err := s.CreateTenant(ctx, in); err != nil {
		t.Fatalf("CreateTenant: %v", err)
	}
	if want := oddTime().UTC().Truncate(time.Microsecond); !in.CreatedAt.Equal(want) || in.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt after CreateTenant = %v, want it normalised to %v", in.CreatedAt, want)
	}
	got, err := s.GetTenant(ctx, in.ID)
	if err != nil {
		t.Fatalf("GetTenant: %v", err)
	}
	same(t, "GetTenant", fmtTenant(got), fmtTenant(in))

	if _, err := s.GetTenant(ctx, "missing"); !hotpath.IsNotFound(err) {
		t.Errorf("GetTenant(missing): %v, want ENOTFOUND", err)
	}
	dup := &hotpath.Tenant{ID: in.ID, Name: "other"}
	wantCode(t, "CreateTenant with a taken ID", s.CreateTenant(ctx, dup), hotpath.ECONFLICT)
	if got, _ := s.GetTenant(ctx, in.ID); got == nil || got.Name != "acme" {
		t.Errorf("tenant after a conflicting create = %+v, want name acme", got)
	}

	filled := &hotpath.Tenant{Name: "auto"}
	before := time.Now().Add(-time.Second)
	if err := s.CreateTenant(ctx, filled); err != nil {
		t.Fatalf("CreateTenant without ID: %v", err)
	}
	if filled.ID == "" || filled.CreatedAt.Before(before) {
		t.Errorf("CreateTenant filled ID %q, CreatedAt %v; want an ID and now", filled.ID, filled.CreatedAt)
	}
}

// newKey returns an unsaved API key of tenantID whose hash is derived from secret.
func newKey(tenantID, secret string, scope hotpath.Scope) *hotpath.APIKey {
	return &hotpath.APIKey{
		ID: hotpath.NewID(), TenantID: tenantID, Name: "key " + secret, Prefix: secret[:3],
		Hash: []byte("sha256-of-" + secret), Scope: scope, CreatedAt: oddTime(),
	}
}

func testMetaAPIKeys(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	b := CreateTenant(t, s, "b")
	ka := newKey(a.ID, "alpha", hotpath.ScopeWrite)
	kb := newKey(b.ID, "bravo", hotpath.ScopeRead)
	ka2 := newKey(a.ID, "admin", hotpath.ScopeAdmin)
	ka2.CreatedAt = ka.CreatedAt.Add(time.Second)
	for _, k := range []*hotpath.APIKey{ka, kb, ka2} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(%s): %v", k.Name, err)
		}
	}
	got, err := s.FindAPIKey(ctx, []byte("sha256-of-alpha"))
	if err != nil {
		t.Fatalf("FindAPIKey: %v", err)
	}
	same(t, "FindAPIKey", fmtKey(got), fmtKey(ka))
	if _, err := s.FindAPIKey(ctx, []byte("sha256-of-nobody")); !hotpath.IsNotFound(err) {
		t.Errorf("FindAPIKey(unknown hash): %v, want ENOTFOUND", err)
	}

	listed, err := s.ListAPIKeys(ctx, a.ID)
	if err != nil {
		t.Fatalf("ListAPIKeys(a): %v", err)
	}
	var gotList []string
	for _, k := range listed {
		gotList = append(gotList, fmtKey(k))
	}
	same(t, "ListAPIKeys(a)", strings.Join(gotList, "\n"), fmtKey(ka)+"\n"+fmtKey(ka2))
	all, err := s.ListAPIKeys(ctx, "")
	if err != nil || len(all) != 3 {
		t.Errorf(`ListAPIKeys("") = %d keys, %v; want 3`, len(all), err)
	}
	if none, err := s.ListAPIKeys(ctx, "no-such-tenant"); err != nil || len(none) != 0 {
		t.Errorf("ListAPIKeys(unknown tenant) = %d keys, %v; want 0, nil", len(none), err)
	}

	tests := []struct {
		name string
		key  *hotpath.APIKey
		code string
	}{
		{"taken ID", &hotpath.APIKey{ID: ka.ID, TenantID: a.ID, Name: "x", Prefix: "x", Hash: []byte("new hash"), Scope: hotpath.ScopeRead}, hotpath.ECONFLICT},
		{"taken hash", &hotpath.APIKey{ID: hotpath.NewID(), TenantID: b.ID, Name: "x", Prefix: "x", Hash: []byte("sha256-of-alpha"), Scope: hotpath.ScopeRead}, hotpath.ECONFLICT},
		{"unknown tenant", &hotpath.APIKey{ID: hotpath.NewID(), TenantID: "ghost", Name: "x", Prefix: "x", Hash: []byte("ghost hash"), Scope: hotpath.ScopeRead}, hotpath.ENOTFOUND},
		{"unknown scope", &hotpath.APIKey{ID: hotpath.NewID(), TenantID: a.ID, Name: "x", Prefix: "x", Hash: []byte("root hash"), Scope: "root"}, hotpath.EINVALID},
		{"no hash", &hotpath.APIKey{ID: hotpath.NewID(), TenantID: a.ID, Name: "x", Prefix: "x", Scope: hotpath.ScopeRead}, hotpath.EINVALID},
	}
	for _, tt := range tests {
		wantCode(t, "CreateAPIKey with "+tt.name, s.CreateAPIKey(ctx, tt.key), tt.code)
	}
	if all, _ := s.ListAPIKeys(ctx, ""); len(all) != 3 {
		t.Errorf("after refused creates: %d keys, want 3", len(all))
	}
}

func testMetaAPIKeyRevoke(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	k := newKey(a.ID, "gamma", hotpath.ScopeRead)
	other := newKey(a.ID, "delta", hotpath.ScopeRead)
	for _, key := range []*hotpath.APIKey{k, other} {
		if err := s.CreateAPIKey(ctx, key); err != nil {
			t.Fatal(err)
		}
	}
	before := time.Now().Add(-time.Second)
	if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	if _, err := s.FindAPIKey(ctx, k.Hash); !hotpath.IsNotFound(err) {
		t.Errorf("FindAPIKey of a revoked key: %v, want ENOTFOUND", err)
	}
	if _, err := s.FindAPIKey(ctx, other.Hash); err != nil {
		t.Errorf("FindAPIKey of the other key after a revoke: %v, want it found", err)
	}
	listed, err := s.ListAPIKeys(ctx, a.ID)
	if err != nil || len(listed) != 2 {
		t.Fatalf("ListAPIKeys after revoke = %d keys, %v; want both", len(listed), err)
	}
	for _, got := range listed {
		switch {
		case got.ID == k.ID && (got.RevokedAt == nil || got.RevokedAt.Before(before)):
			t.Errorf("revoked key listed with RevokedAt %v, want about now", got.RevokedAt)
		case got.ID == other.ID && got.RevokedAt != nil:
			t.Errorf("unrevoked key listed with RevokedAt %v, want nil", got.RevokedAt)
		}
	}
	if err := s.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Errorf("RevokeAPIKey twice: %v, want nil", err)
	}
	if err := s.RevokeAPIKey(ctx, "missing"); !hotpath.IsNotFound(err) {
		t.Errorf("RevokeAPIKey(missing): %v, want ENOTFOUND", err)
	}
}

func testMetaImageRoundTrip(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	img := NewImage(a.ID, "thumb", "medium", "large")
	img.CreatedAt = oddTime()
	img.Variants[1].CreatedAt = oddTime().Add(time.Minute)
	if err := s.CreateImage(ctx, img); err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	got, err := s.GetImage(ctx, a.ID, img.ID)
	if err != nil {
		t.Fatalf("GetImage: %v", err)
	}
	same(t, "GetImage", fmtImage(got), fmtImage(img))
	if got.Variants[0].CreatedAt.IsZero() {
		t.Errorf("variant without CreatedAt stored as zero time, want it filled")
	}
	for _, want := range img.Variants {
		v, err := s.GetVariant(ctx, img.ID, want.Name)
		if err != nil {
			t.Fatalf("GetVariant(%s): %v", want.Name, err)
		}
		same(t, "GetVariant("+want.Name+")", fmtVariant(*v), fmtVariant(want))
	}
	if _, err := s.GetVariant(ctx, img.ID, "huge"); !hotpath.IsNotFound(err) {
		t.Errorf("GetVariant(missing name): %v, want ENOTFOUND", err)
	}
	if _, err := s.GetVariant(ctx, "missing", "thumb"); !hotpath.IsNotFound(err) {
		t.Errorf("GetVariant(missing image): %v, want ENOTFOUND", err)
	}
	if _, err := s.GetImage(ctx, a.ID, "missing"); !hotpath.IsNotFound(err) {
		t.Errorf("GetImage(missing): %v, want ENOTFOUND", err)
	}
	// Tenant "" finds an image of any tenant: transform URLs carry no tenant.
	if got, err := s.GetImage(ctx, "", img.ID); err != nil || got.TenantID != a.ID || len(got.Variants) != len(img.Variants) {
		t.Errorf("GetImage(any tenant) = %+v, %v; want the image of tenant %s with its variants", got, err, a.ID)
	}
	if _, err := s.GetImage(ctx, "", "missing"); !hotpath.IsNotFound(err) {
		t.Errorf("GetImage(any tenant, missing): %v, want ENOTFOUND", err)
	}

	bare := NewImage(a.ID)
	if err := s.CreateImage(ctx, bare); err != nil {
		t.Fatalf("CreateImage without variants: %v", err)
	}
	got, err = s.GetImage(ctx, a.ID, bare.ID)
	if err != nil || got.Variants == nil || len(got.Variants) != 0 {
		t.Errorf("GetImage of an image without variants: variants %#v, %v; want an empty, non-nil slice", got.Variants, err)
	}
}

func testMetaImageDefaults(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	img := NewImage(a.ID, "thumb")
	img.ID, img.Status, img.Variants[0].ImageID = "", "", ""
	before := time.Now().Add(-time.Second)
	if err := s.CreateImage(ctx, img); err != nil {
		t.Fatalf("CreateImage with defaults: %v", err)
	}
	if img.ID == "" || img.Status != hotpath.ImageReady || img.CreatedAt.Before(before) || img.Variants[0].ImageID != img.ID {
		t.Errorf("CreateImage filled ID %q, Status %q, CreatedAt %v, variant ImageID %q; want an ID, ready, now, the image's ID",
			img.ID, img.Status, img.CreatedAt, img.Variants[0].ImageID)
	}
	got, err := s.GetImage(ctx, a.ID, img.ID)
	if err != nil {
		t.Fatalf("GetImage: %v", err)
	}
	same(t, "GetImage after defaults", fmtImage(got), fmtImage(img))

	proc := NewImage(a.ID)
	proc.Status = hotpath.ImageProcessing
	if err := s.CreateImage(ctx, proc); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.GetImage(ctx, a.ID, proc.ID); got == nil || got.Status != hotpath.ImageProcessing {
		t.Errorf("processing image read back as %+v, want status processing", got)
	}
}

func testMetaImageConflicts(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	b := CreateTenant(t, s, "b")
	first := CreateImage(t, s, a.ID, "thumb")

	dup := NewImage(b.ID, "medium")
	dup.ID = first.ID
	for i := range dup.Variants {
		dup.Variants[i].ImageID = first.ID
	}
	wantCode(t, "CreateImage with a taken ID (other tenant)", s.CreateImage(ctx, dup), hotpath.ECONFLICT)
	if got, err := s.GetImage(ctx, a.ID, first.ID); err != nil {
		t.Errorf("GetImage after a conflicting create: %v", err)
	} else {
		same(t, "image after a conflicting create", fmtImage(got), fmtImage(first))
	}
	if _, err := s.GetImage(ctx, b.ID, first.ID); !hotpath.IsNotFound(err) {
		t.Errorf("conflicting create left an image for tenant b: %v, want ENOTFOUND", err)
	}

	// A failing variant undoes the whole image: one transaction.
	twice := NewImage(a.ID, "thumb", "medium")
	twice.Variants[1].Name = "thumb"
	wantCode(t, "CreateImage with two variants of one name", s.CreateImage(ctx, twice), hotpath.ECONFLICT)
	if _, err := s.GetImage(ctx, a.ID, twice.ID); !hotpath.IsNotFound(err) {
		t.Errorf("GetImage after a failed CreateImage: %v, want ENOTFOUND (nothing stored)", err)
	}
	if _, err := s.GetVariant(ctx, twice.ID, "thumb"); !hotpath.IsNotFound(err) {
		t.Errorf("GetVariant after a failed CreateImage: %v, want ENOTFOUND (nothing stored)", err)
	}

	wantCode(t, "CreateImage for an unknown tenant", s.CreateImage(ctx, NewImage("ghost", "thumb")), hotpath.ENOTFOUND)
	bad := NewImage(a.ID)
	bad.Status = "half-done"
	wantCode(t, "CreateImage with an unknown status", s.CreateImage(ctx, bad), hotpath.EINVALID)
	foreign := NewImage(a.ID, "thumb")
	foreign.Variants[0].ImageID = first.ID
	wantCode(t, "CreateImage with a variant of another image", s.CreateImage(ctx, foreign), hotpath.EINVALID)
	if page, err := s.ListImages(ctx, a.ID, "", 0); err != nil || len(page.Images) != 1 {
		t.Errorf("after refused creates tenant a has %d images, %v; want 1", len(page.Images), err)
	}
}

func testMetaImageIsolation(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	b := CreateTenant(t, s, "b")
	img := CreateImage(t, s, a.ID, "thumb")
	CreateImage(t, s, b.ID, "thumb")

	if _, err := s.GetImage(ctx, b.ID, img.ID); !hotpath.IsNotFound(err) {
		t.Errorf("GetImage by another tenant: %v, want ENOTFOUND", err)
	}
	wantCode(t, "DeleteImage by another tenant", s.DeleteImage(ctx, b.ID, img.ID), hotpath.ENOTFOUND)
	wantCode(t, "UpdateImageStatus by another tenant",
		s.UpdateImageStatus(ctx, b.ID, img.ID, hotpath.ImageFailed, "x"), hotpath.ENOTFOUND)
	page, err := s.ListImages(ctx, b.ID, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, got := range page.Images {
		if got.TenantID != b.ID || got.ID == img.ID {
			t.Errorf("ListImages(b) returned image %s of tenant %s", got.ID, got.TenantID)
		}
	}
	if len(page.Images) != 1 {
		t.Errorf("ListImages(b) = %d images, want 1", len(page.Images))
	}
	got, err := s.GetImage(ctx, a.ID, img.ID)
	if err != nil {
		t.Fatalf("owner's GetImage after another tenant's attempts: %v", err)
	}
	same(t, "image after another tenant's attempts", fmtImage(got), fmtImage(img))
}

func testMetaListImages(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	b := CreateTenant(t, s, "b")
	var want []string
	for i := range 23 {
		img := CreateImage(t, s, a.ID, "thumb", "medium")
		want = append(want, img.ID)
		if i%5 == 0 {
			CreateImage(t, s, b.ID, "thumb") // interleaved, must never show up
			time.Sleep(2 * time.Millisecond) // spread the IDs' millisecond prefixes
		}
	}
	// Newest first is by ID: IDs sort by creation time to the millisecond,
	// and within one millisecond by their random part.
	slices.Sort(want)
	slices.Reverse(want)

	for _, limit := range []int{1, 5, 7, 23, 100} {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatalf("limit %d: more than 30 pages, cursor %q loops", limit, cursor)
			}
			page, err := s.ListImages(ctx, a.ID, cursor, limit)
			if err != nil {
				t.Fatalf("ListImages(limit %d, cursor %q): %v", limit, cursor, err)
			}
			if len(page.Images) > limit {
				t.Fatalf("limit %d: page of %d images", limit, len(page.Images))
			}
			for _, img := range page.Images {
				if img.TenantID != a.ID {
					t.Fatalf("ListImages(a) returned tenant %s's image", img.TenantID)
				}
				if len(img.Variants) != 2 || img.Variants[0].Name != "thumb" || img.Variants[1].Name != "medium" {
					t.Errorf("listed image %s has variants %v, want thumb, medium", img.ID, img.Variants)
				}
				got = append(got, img.ID)
			}
			if page.NextCursor == "" {
				break
			}
			if len(page.Images) != limit {
				t.Errorf("limit %d: a page of %d images has a NextCursor, want only full pages to", limit, len(page.Images))
			}
			cursor = page.NextCursor
		}
		same(t, fmt.Sprintf("IDs over pages of %d", limit), strings.Join(got, ","), strings.Join(want, ","))
	}

	page, err := s.ListImages(ctx, a.ID, "", 0)
	if err != nil || len(page.Images) != 23 || page.NextCursor != "" {
		t.Errorf("ListImages(limit 0) = %d images, cursor %q, %v; want all 23 (default 50), no cursor", len(page.Images), page.NextCursor, err)
	}
	page, err = s.ListImages(ctx, "nobody", "", 10)
	if err != nil || page == nil || len(page.Images) != 0 || page.NextCursor != "" {
		t.Errorf("ListImages(unknown tenant) = %+v, %v; want an empty page", page, err)
	}
	if page != nil && page.Images == nil {
		t.Errorf("ListImages(unknown tenant).Images is nil, want an empty slice (JSON [])")
	}
}

func testMetaDeleteImage(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	img := CreateImage(t, s, a.ID, "thumb", "large")
	keep := CreateImage(t, s, a.ID, "thumb")
	transform := hotpath.Variant{ImageID: img.ID, Name: "t:w=100", Format: hotpath.FormatAVIF, Width: 100, Height: 75, Bytes: 99,
		BlobKey: hotpath.VariantKey(a.ID, img.ID, "t-hash")}
	if err := s.PutVariant(ctx, &transform); err != nil {
		t.Fatalf("PutVariant: %v", err)
	}
	if err := s.DeleteImage(ctx, a.ID, img.ID); err != nil {
		t.Fatalf("DeleteImage: %v", err)
	}
	if _, err := s.GetImage(ctx, a.ID, img.ID); !hotpath.IsNotFound(err) {
		t.Errorf("GetImage after delete: %v, want ENOTFOUND", err)
	}
	for _, name := range []string{"thumb", "large", "t:w=100"} {
		if _, err := s.GetVariant(ctx, img.ID, name); !hotpath.IsNotFound(err) {
			t.Errorf("GetVariant(%s) after delete: %v, want ENOTFOUND", name, err)
		}
	}
	late := hotpath.Variant{ImageID: img.ID, Name: "medium", Format: hotpath.FormatJPEG, BlobKey: "k"}
	wantCode(t, "PutVariant of a deleted image", s.PutVariant(ctx, &late), hotpath.ENOTFOUND)
	wantCode(t, "DeleteImage twice", s.DeleteImage(ctx, a.ID, img.ID), hotpath.ENOTFOUND)
	got, err := s.GetImage(ctx, a.ID, keep.ID)
	if err != nil {
		t.Fatalf("other image after delete: %v", err)
	}
	same(t, "other image after delete", fmtImage(got), fmtImage(keep))
	// The ID is free again: a retried upload may reuse it.
	again := NewImage(a.ID, "thumb")
	again.ID = img.ID
	again.Variants[0].ImageID = img.ID
	if err := s.CreateImage(ctx, again); err != nil {
		t.Errorf("CreateImage reusing a deleted ID: %v", err)
	}
	if got, err := s.GetImage(ctx, a.ID, img.ID); err != nil || len(got.Variants) != 1 {
		t.Errorf("recreated image: %v; want exactly its one new variant", err)
	}
}

func testMetaUpdateImageStatus(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	img := NewImage(a.ID)
	img.Status = hotpath.ImageProcessing
	if err := s.CreateImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		status hotpath.ImageStatus
		errTxt string
	}{
		{hotpath.ImageFailed, "decode: truncated JPEG"},
		{hotpath.ImageReady, ""},
	}
	for _, st := range steps {
		if err := s.UpdateImageStatus(ctx, a.ID, img.ID, st.status, st.errTxt); err != nil {
			t.Fatalf("UpdateImageStatus(%s): %v", st.status, err)
		}
		got, err := s.GetImage(ctx, a.ID, img.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != st.status || got.Error != st.errTxt {
			t.Errorf("after UpdateImageStatus(%s, %q): status %s, error %q", st.status, st.errTxt, got.Status, got.Error)
		}
	}
	wantCode(t, "UpdateImageStatus(missing)", s.UpdateImageStatus(ctx, a.ID, "missing", hotpath.ImageReady, ""), hotpath.ENOTFOUND)
	wantCode(t, "UpdateImageStatus(unknown status)", s.UpdateImageStatus(ctx, a.ID, img.ID, "lost", ""), hotpath.EINVALID)
}

func testMetaPutVariant(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	img := CreateImage(t, s, a.ID, "thumb", "medium")
	large := hotpath.Variant{ImageID: img.ID, Name: "large", Format: hotpath.FormatWebP, Width: 1600, Height: 1200, Bytes: 50_000,
		BlobKey: hotpath.VariantKey(a.ID, img.ID, "large"), CreatedAt: oddTime()}
	for range 3 { // a redelivered job writes the same variant again
		v := large
		if err := s.PutVariant(ctx, &v); err != nil {
			t.Fatalf("PutVariant: %v", err)
		}
		large = v
	}
	// Replacing thumb keeps its place and takes the new values.
	thumb := img.Variants[0]
	thumb.Width, thumb.Height, thumb.Bytes, thumb.Format = 180, 135, 777, hotpath.FormatAVIF
	if err := s.PutVariant(ctx, &thumb); err != nil {
		t.Fatalf("PutVariant replacing thumb: %v", err)
	}
	got, err := s.GetImage(ctx, a.ID, img.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *img
	want.Variants = []hotpath.Variant{thumb, img.Variants[1], large}
	same(t, "image after PutVariant", fmtImage(got), fmtImage(&want))
	v, err := s.GetVariant(ctx, img.ID, "large")
	if err != nil {
		t.Fatal(err)
	}
	same(t, "GetVariant(large)", fmtVariant(*v), fmtVariant(large))
	orphan := hotpath.Variant{ImageID: "missing", Name: "thumb", Format: hotpath.FormatJPEG, BlobKey: "k"}
	wantCode(t, "PutVariant of a missing image", s.PutVariant(ctx, &orphan), hotpath.ENOTFOUND)
}

// testMetaTransformsNotLoaded checks that stored transform results
// (variants named "t:…"), which grow without bound per image, are left out of
// GetImage and ListImages but still found by GetVariant.
func testMetaTransformsNotLoaded(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	img := CreateImage(t, s, a.ID, "thumb", "medium")
	var transforms []hotpath.Variant
	for i := range 3 {
		v := hotpath.Variant{ImageID: img.ID, Name: fmt.Sprintf("t:w:%d", 100+i), Format: hotpath.FormatWebP, Width: 100 + i, Height: 75, Bytes: 99,
			BlobKey: hotpath.VariantKey(a.ID, img.ID, fmt.Sprintf("t-hash%d", i)), CreatedAt: oddTime()}
		if err := s.PutVariant(ctx, &v); err != nil {
			t.Fatalf("PutVariant(%s): %v", v.Name, err)
		}
		transforms = append(transforms, v)
	}
	// A preset variant added after the transforms is still loaded.
	large := hotpath.Variant{ImageID: img.ID, Name: "large", Format: hotpath.FormatWebP, Width: 1600, Height: 1200, Bytes: 5000,
		BlobKey: hotpath.VariantKey(a.ID, img.ID, "large"), CreatedAt: oddTime()}
	if err := s.PutVariant(ctx, &large); err != nil {
		t.Fatal(err)
	}
	want := *img
	want.Variants = []hotpath.Variant{img.Variants[0], img.Variants[1], large}
	for _, tenant := range []string{a.ID, ""} {
		got, err := s.GetImage(ctx, tenant, img.ID)
		if err != nil {
			t.Fatalf("GetImage(%q): %v", tenant, err)
		}
		same(t, fmt.Sprintf("GetImage(%q) with stored transforms", tenant), fmtImage(got), fmtImage(&want))
	}
	page, err := s.ListImages(ctx, a.ID, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Images) != 1 {
		t.Fatalf("ListImages: %d images, want 1", len(page.Images))
	}
	same(t, "ListImages with stored transforms", fmtImage(page.Images[0]), fmtImage(&want))
	for _, tv := range transforms {
		got, err := s.GetVariant(ctx, img.ID, tv.Name)
		if err != nil {
			t.Fatalf("GetVariant(%s): %v", tv.Name, err)
		}
		same(t, "GetVariant("+tv.Name+")", fmtVariant(*got), fmtVariant(tv))
	}
}

func testMetaJobs(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	b := CreateTenant(t, s, "b")
	j := &hotpath.Job{ID: hotpath.NewID(), TenantID: a.ID, Kind: hotpath.JobVariants, ImageID: hotpath.NewID(), Filename: "x.png", CreatedAt: oddTime()}
	if err := s.CreateJob(ctx, j); err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
	if j.State != hotpath.JobQueued || !j.UpdatedAt.Equal(j.CreatedAt) {
		t.Errorf("CreateJob filled State %q, UpdatedAt %v; want queued, CreatedAt %v", j.State, j.UpdatedAt, j.CreatedAt)
	}
	got, err := s.GetJob(ctx, a.ID, j.ID)
	if err != nil {
		t.Fatalf("GetJob: %v", err)
	}
	same(t, "GetJob", fmtJob(got), fmtJob(j))
	if _, err := s.GetJob(ctx, b.ID, j.ID); !hotpath.IsNotFound(err) {
		t.Errorf("GetJob by another tenant: %v, want ENOTFOUND", err)
	}
	if _, err := s.GetJob(ctx, a.ID, "missing"); !hotpath.IsNotFound(err) {
		t.Errorf("GetJob(missing): %v, want ENOTFOUND", err)
	}

	before := time.Now().Add(-time.Second)
	j.State, j.Attempts, j.Error = hotpath.JobSucceeded, 2, "first attempt: timeout"
	j.Result = json.RawMessage(`{"variants": ["thumb", "medium"], "ms": 812}`)
	if err := s.UpdateJob(ctx, j); err != nil {
		t.Fatalf("UpdateJob: %v", err)
	}
	if j.UpdatedAt.Before(before) {
		t.Errorf("UpdateJob set UpdatedAt %v, want now", j.UpdatedAt)
	}
	got, err = s.GetJob(ctx, a.ID, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "GetJob after UpdateJob", fmtJob(got), fmtJob(j))

	stolen := *j
	stolen.TenantID, stolen.State = b.ID, hotpath.JobFailed
	wantCode(t, "UpdateJob by another tenant", s.UpdateJob(ctx, &stolen), hotpath.ENOTFOUND)
	if got, _ := s.GetJob(ctx, a.ID, j.ID); got == nil || got.State != hotpath.JobSucceeded {
		t.Errorf("job after another tenant's update = %+v, want it unchanged", got)
	}
	missing := &hotpath.Job{ID: "missing", TenantID: a.ID, Kind: hotpath.JobVariants, State: hotpath.JobRunning}
	wantCode(t, "UpdateJob(missing)", s.UpdateJob(ctx, missing), hotpath.ENOTFOUND)
	bad := *j
	bad.State = "exploded"
	wantCode(t, "UpdateJob with an unknown state", s.UpdateJob(ctx, &bad), hotpath.EINVALID)

	dup := &hotpath.Job{ID: j.ID, TenantID: b.ID, Kind: hotpath.JobVariants}
	wantCode(t, "CreateJob with a taken ID", s.CreateJob(ctx, dup), hotpath.ECONFLICT)
	ghost := &hotpath.Job{TenantID: "ghost", Kind: hotpath.JobVariants}
	wantCode(t, "CreateJob for an unknown tenant", s.CreateJob(ctx, ghost), hotpath.ENOTFOUND)
	noBatch := &hotpath.Job{TenantID: a.ID, Kind: hotpath.JobVariants, BatchID: "missing"}
	wantCode(t, "CreateJob in an unknown batch", s.CreateJob(ctx, noBatch), hotpath.ENOTFOUND)
}

// testMetaReconcileQueries: ListStaleJobs finds every tenant's queued and
// running jobs last updated before the cut-off, oldest first, and
// ListStrandedImages the processing images older than the cut-off that no
// queued or running job will finish.
func testMetaReconcileQueries(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	b := CreateTenant(t, s, "b")
	now := time.Now().UTC().Truncate(time.Millisecond)
	cut := now.Add(-time.Minute)
	image := func(tenant string, status hotpath.ImageStatus, age time.Duration) *hotpath.Image {
		t.Helper()
		img := NewImage(tenant)
		img.Status, img.CreatedAt = status, now.Add(-age)
		if err := s.CreateImage(ctx, img); err != nil {
			t.Fatalf("CreateImage: %v", err)
		}
		return img
	}
	job := func(tenant, imageID string, state hotpath.JobState, age time.Duration) *hotpath.Job {
		t.Helper()
		j := &hotpath.Job{ID: hotpath.NewID(), TenantID: tenant, Kind: hotpath.JobVariants, ImageID: imageID, State: state, CreatedAt: now.Add(-age)}
		if err := s.CreateJob(ctx, j); err != nil {
			t.Fatalf("CreateJob: %v", err)
		}
		return j
	}
	stranded := image(a.ID, hotpath.ImageProcessing, 3*time.Hour)   // its submit failed before the job row
	undone := image(b.ID, hotpath.ImageProcessing, 2*time.Hour)     // its job failed, the undo did not happen
	waiting := image(a.ID, hotpath.ImageProcessing, 2*time.Hour)    // its job is queued: not stranded
	image(a.ID, hotpath.ImageReady, 2*time.Hour)                    // finished
	fresh := image(b.ID, hotpath.ImageProcessing, time.Second)      // a submit under way
	running := job(b.ID, fresh.ID, hotpath.JobRunning, 2*time.Hour) // stale, oldest
	queued := job(a.ID, waiting.ID, hotpath.JobQueued, time.Hour)   // stale
	job(b.ID, undone.ID, hotpath.JobFailed, 2*time.Hour)            // finished
	job(a.ID, hotpath.NewID(), hotpath.JobQueued, time.Second)      // recent
	job(a.ID, hotpath.NewID(), hotpath.JobSucceeded, 5*time.Hour)   // finished

	jobs, err := s.ListStaleJobs(ctx, cut, 10)
	if err != nil {
		t.Fatalf("ListStaleJobs: %v", err)
	}
	var ids []string
	for _, j := range jobs {
		ids = append(ids, j.ID)
	}
	same(t, "ListStaleJobs", fmt.Sprint(ids), fmt.Sprint([]string{running.ID, queued.ID}))
	if jobs, err = s.ListStaleJobs(ctx, cut, 1); err != nil || len(jobs) != 1 || jobs[0].ID != running.ID {
		t.Errorf("ListStaleJobs limit 1 = %d jobs, %v; want the oldest", len(jobs), err)
	}
	if len(jobs) == 1 && (jobs[0].TenantID != b.ID || jobs[0].State != hotpath.JobRunning || jobs[0].ImageID != fresh.ID) {
		t.Errorf("ListStaleJobs returned %+v, want the whole job", jobs[0])
	}

	images, err := s.ListStrandedImages(ctx, cut, 10)
	if err != nil {
		t.Fatalf("ListStrandedImages: %v", err)
	}
	ids = nil
	for _, img := range images {
		ids = append(ids, img.ID+"/"+img.TenantID)
	}
	same(t, "ListStrandedImages", fmt.Sprint(ids), fmt.Sprint([]string{stranded.ID + "/" + a.ID, undone.ID + "/" + b.ID}))
	if images, err = s.ListStrandedImages(ctx, cut, 1); err != nil || len(images) != 1 {
		t.Errorf("ListStrandedImages limit 1 = %d images, %v; want 1", len(images), err)
	}
}

func testMetaBatches(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	b := CreateTenant(t, s, "b")
	batch := &hotpath.Batch{ID: hotpath.NewID(), TenantID: a.ID, Total: 6, CreatedAt: oddTime()}
	if err := s.CreateBatch(ctx, batch); err != nil {
		t.Fatalf("CreateBatch: %v", err)
	}
	got, err := s.GetBatch(ctx, a.ID, batch.ID)
	if err != nil {
		t.Fatalf("GetBatch: %v", err)
	}
	same(t, "GetBatch of a batch without jobs", fmtBatch(got), fmtBatch(batch))

	states := []hotpath.JobState{hotpath.JobQueued, hotpath.JobRunning, hotpath.JobSucceeded, hotpath.JobSucceeded, hotpath.JobFailed}
	var jobs []*hotpath.Job
	for i, st := range states {
		j := &hotpath.Job{TenantID: a.ID, Kind: hotpath.JobVariants, BatchID: batch.ID, Filename: fmt.Sprintf("f%d.jpg", i)}
		if err := s.CreateJob(ctx, j); err != nil {
			t.Fatalf("CreateJob in batch: %v", err)
		}
		if st != hotpath.JobQueued {
			j.State, j.Attempts = st, 1
			if err := s.UpdateJob(ctx, j); err != nil {
				t.Fatalf("UpdateJob: %v", err)
			}
		}
		jobs = append(jobs, j)
	}
	loose := &hotpath.Job{TenantID: a.ID, Kind: hotpath.JobVariants} // not in the batch
	if err := s.CreateJob(ctx, loose); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetBatch(ctx, a.ID, batch.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *batch
	want.Queued, want.Running, want.Succeeded, want.Failed = 1, 1, 2, 1
	same(t, "GetBatch counters", fmtBatch(got), fmtBatch(&want))

	listed, err := s.ListBatchJobs(ctx, a.ID, batch.ID)
	if err != nil {
		t.Fatalf("ListBatchJobs: %v", err)
	}
	var gotJobs, wantJobs []string
	for _, j := range listed {
		gotJobs = append(gotJobs, fmtJob(j))
	}
	for _, j := range jobs {
		wantJobs = append(wantJobs, fmtJob(j))
	}
	same(t, "ListBatchJobs", strings.Join(gotJobs, "\n"), strings.Join(wantJobs, "\n"))

	// More jobs than announced: Total follows the jobs.
	for range 2 {
		if err := s.CreateJob(ctx, &hotpath.Job{TenantID: a.ID, Kind: hotpath.JobVariants, BatchID: batch.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.GetBatch(ctx, a.ID, batch.ID); err != nil || got.Total != 7 || got.Queued != 3 {
		t.Errorf("GetBatch with 7 jobs of 6 announced: Total %d, Queued %d, %v; want 7, 3", got.Total, got.Queued, err)
	}

	if _, err := s.GetBatch(ctx, b.ID, batch.ID); !hotpath.IsNotFound(err) {
		t.Errorf("GetBatch by another tenant: %v, want ENOTFOUND", err)
	}
	if _, err := s.ListBatchJobs(ctx, b.ID, batch.ID); !hotpath.IsNotFound(err) {
		t.Errorf("ListBatchJobs by another tenant: %v, want ENOTFOUND", err)
	}
	if _, err := s.GetBatch(ctx, a.ID, "missing"); !hotpath.IsNotFound(err) {
		t.Errorf("GetBatch(missing): %v, want ENOTFOUND", err)
	}
	intruder := &hotpath.Job{TenantID: b.ID, Kind: hotpath.JobVariants, BatchID: batch.ID}
	wantCode(t, "CreateJob in another tenant's batch", s.CreateJob(ctx, intruder), hotpath.ENOTFOUND)
	wantCode(t, "CreateBatch with a taken ID", s.CreateBatch(ctx, &hotpath.Batch{ID: batch.ID, TenantID: b.ID}), hotpath.ECONFLICT)
	wantCode(t, "CreateBatch for an unknown tenant", s.CreateBatch(ctx, &hotpath.Batch{TenantID: "ghost"}), hotpath.ENOTFOUND)
	empty := &hotpath.Batch{TenantID: b.ID}
	if err := s.CreateBatch(ctx, empty); err != nil {
		t.Fatal(err)
	}
	if list, err := s.ListBatchJobs(ctx, b.ID, empty.ID); err != nil || list == nil || len(list) != 0 {
		t.Errorf("ListBatchJobs of an empty batch = %#v, %v; want an empty, non-nil slice", list, err)
	}
}

func testMetaConcurrentWrites(t *testing.T, s hotpath.MetadataStore) {
	ctx := context.Background()
	a := CreateTenant(t, s, "a")
	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each*3)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				img := NewImage(a.ID, "thumb", "medium")
				if err := s.CreateImage(ctx, img); err != nil {
					errs <- fmt.Errorf("CreateImage: %w", err)
					continue
				}
				v := img.Variants[0]
				v.Bytes++
				if err := s.PutVariant(ctx, &v); err != nil {
					errs <- fmt.Errorf("PutVariant: %w", err)
				}
				if _, err := s.GetImage(ctx, a.ID, img.ID); err != nil {
					errs <- fmt.Errorf("GetImage: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	page, err := s.ListImages(ctx, a.ID, "", 1000)
	if err != nil || len(page.Images) != writers*each {
		t.Errorf("after concurrent writes: %d images, %v; want %d", len(page.Images), err, writers*each)
	}
}

// BenchmarkCreateImage measures CreateImage of images with three variants
// from 4×GOMAXPROCS goroutines on s, as a busy upload pipeline calls it.
func BenchmarkCreateImage(b *testing.B, s hotpath.MetadataStore) {
	b.Helper()
	tn := &hotpath.Tenant{Name: "bench"}
	if err := s.CreateTenant(context.Background(), tn); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.CreateImage(context.Background(), NewImage(tn.ID, "thumb", "medium", "large")); err != nil {
				b.Error(err)
			}
		}
	})
}
