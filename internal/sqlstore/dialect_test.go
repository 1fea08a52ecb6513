package sqlstore

import (
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	q := "SELECT a FROM t WHERE (? = '' OR b = ?) AND c IN (?, ?)"
	if got := (Dialect{}).Rebind(q); got != q {
		t.Errorf("SQLite Rebind = %q, want it unchanged", got)
	}
	want := "SELECT a FROM t WHERE ($1 = '' OR b = $2) AND c IN ($3, $4)"
	if got := (Dialect{Numbered: true}).Rebind(q); got != want {
		t.Errorf("PostgreSQL Rebind = %q, want %q", got, want)
	}
}

func TestTimeRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 6, 5, 4, 3, 2_001_000, time.FixedZone("x", 3600))
	for _, d := range []Dialect{{UnixMicros: true}, {Numbered: true}} {
		var got time.Time
		if err := (Time{&got}).Scan(d.TimeArg(at)); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(at) || got.Location() != time.UTC {
			t.Errorf("UnixMicros=%v: scanned %v, want %v in UTC", d.UnixMicros, got, at)
		}
	}
	if err := (Time{new(time.Time)}).Scan("yesterday"); err == nil {
		t.Error("Scan of a string: no error")
	}
}
