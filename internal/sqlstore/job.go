package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/hotpath/hotpath"
)

// CreateJob records j, filling an empty ID, an empty State (queued) and the
// times. Its tenant, and its batch when it has one, must exist and the batch
// must be the tenant's (ENOTFOUND).
func (s *Queries) CreateJob(ctx context.Context, j *hotpath.Job) error {
	s.Clock.PrepareJob(j)
	_, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind(`INSERT INTO jobs (id, tenant_id, kind, image_id, batch_id, filename, state, attempts, error, result, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		j.ID, j.TenantID, string(j.Kind), j.ImageID, nullString(j.BatchID), j.Filename, string(j.State), j.Attempts,
		j.Error, nullJSON(j.Result), s.Dialect.TimeArg(j.CreatedAt), s.Dialect.TimeArg(j.UpdatedAt))
	return s.Dialect.Err(err, "create job", "", "tenant or batch not found")
}

// nullString stores "" as NULL, for optional references.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// nullJSON passes a result as JSON text, an empty one as NULL.
func nullJSON(m json.RawMessage) sql.NullString {
	return sql.NullString{String: string(m), Valid: len(m) > 0}
}

// jobColumns reads the result as text: SQLite keeps it as a blob or text,
// PostgreSQL as json, and both read back byte for byte.
const jobColumns = "id, tenant_id, kind, image_id, coalesce(batch_id, ''), filename, state, attempts, error, CAST(result AS TEXT), created_at, updated_at"

func scanJob(row interface{ Scan(dest ...any) error }) (*hotpath.Job, error) {
	var j hotpath.Job
	var kind, state string
	var result sql.NullString
	err := row.Scan(&j.ID, &j.TenantID, &kind, &j.ImageID, &j.BatchID, &j.Filename, &state, &j.Attempts,
		&j.Error, &result, Time{&j.CreatedAt}, Time{&j.UpdatedAt})
	if err != nil {
		return nil, err
	}
	j.Kind = hotpath.JobKind(kind)
	j.State = hotpath.JobState(state)
	if result.Valid && result.String != "" {
		j.Result = json.RawMessage(result.String)
	}
	return &j, nil
}

// GetJob returns the tenant's job.
func (s *Queries) GetJob(ctx context.Context, tenantID, id string) (*hotpath.Job, error) {
	j, err := scanJob(s.Reader.QueryRowContext(ctx, s.Dialect.Rebind("SELECT "+jobColumns+" FROM jobs WHERE tenant_id = ? AND id = ?"), tenantID, id))
	if err != nil {
		return nil, s.Dialect.Err(err, "get job", "job not found", "")
	}
	return j, nil
}

// UpdateJob stores j's state, attempts, error and result, and sets UpdatedAt
// to now. The job is found by ID and tenant.
func (s *Queries) UpdateJob(ctx context.Context, j *hotpath.Job) error {
	updated := s.Clock.Stamp(time.Time{})
	res, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind(`UPDATE jobs SET state = ?, attempts = ?, error = ?, result = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`),
		string(j.State), j.Attempts, j.Error, nullJSON(j.Result), s.Dialect.TimeArg(updated), j.TenantID, j.ID)
	if err != nil {
		return s.Dialect.Err(err, "update job", "", "")
	}
	if err := MustAffect(res, "job not found"); err != nil {
		return err
	}
	j.UpdatedAt = updated
	return nil
}

// CreateBatch records b, filling an empty ID and a zero CreatedAt. The
// counters are not stored: GetBatch counts them from the batch's jobs.
func (s *Queries) CreateBatch(ctx context.Context, b *hotpath.Batch) error {
	if err := s.Clock.PrepareBatch(b); err != nil {
		return err
	}
	_, err := s.Writer.ExecContext(ctx, s.Dialect.Rebind("INSERT INTO batches (id, tenant_id, total, created_at) VALUES (?, ?, ?, ?)"),
		b.ID, b.TenantID, b.Total, s.Dialect.TimeArg(b.CreatedAt))
	return s.Dialect.Err(err, "create batch", "", "tenant not found")
}

// GetBatch returns the tenant's batch with its jobs counted by state, read
// in one snapshot. Total is the larger of the total given at creation and
// the number of jobs, so a batch whose jobs are still being added shows how
// many are expected.
func (s *Queries) GetBatch(ctx context.Context, tenantID, id string) (*hotpath.Batch, error) {
	var b hotpath.Batch
	err := s.read(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.Dialect.Rebind("SELECT id, tenant_id, total, created_at FROM batches WHERE tenant_id = ? AND id = ?"),
			tenantID, id).Scan(&b.ID, &b.TenantID, &b.Total, Time{&b.CreatedAt})
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.Dialect.Rebind("SELECT state, count(*) FROM jobs WHERE batch_id = ? GROUP BY state"), id)
		if err != nil {
			return err
		}
		defer rows.Close()
		jobs := 0
		for rows.Next() {
			var state string
			var n int
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			CountState(&b, hotpath.JobState(state), n)
			jobs += n
		}
		b.Total = max(b.Total, jobs)
		return rows.Err()
	})
	if err != nil {
		return nil, s.Dialect.Err(err, "get batch", "batch not found", "")
	}
	return &b, nil
}

// ListBatchJobs returns the jobs of the tenant's batch in the order they were
// added; ENOTFOUND when the tenant has no such batch.
func (s *Queries) ListBatchJobs(ctx context.Context, tenantID, batchID string) ([]*hotpath.Job, error) {
	jobs := []*hotpath.Job{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.Dialect.Rebind("SELECT 1 FROM batches WHERE tenant_id = ? AND id = ?"), tenantID, batchID).Scan(&one); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, s.Dialect.Rebind("SELECT "+jobColumns+" FROM jobs WHERE batch_id = ? ORDER BY seq"), batchID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			j, err := scanJob(rows)
			if err != nil {
				return err
			}
			jobs = append(jobs, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, s.Dialect.Err(err, "list batch jobs", "batch not found", "")
	}
	return jobs, nil
}

// ListStaleJobs returns up to limit queued or running jobs of every tenant
// last updated before before, oldest first.
func (s *Queries) ListStaleJobs(ctx context.Context, before time.Time, limit int) ([]*hotpath.Job, error) {
	var jobs []*hotpath.Job
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.Dialect.Rebind("SELECT "+jobColumns+` FROM jobs
			WHERE state IN ('queued', 'running') AND updated_at < ? ORDER BY updated_at LIMIT ?`), s.Dialect.TimeArg(before), limit)
		if err == nil {
			jobs, err = collect(rows, scanJob)
		}
		return err
	})
	return jobs, s.Dialect.Err(err, "list stale jobs", "", "")
}

// ListStrandedImages returns up to limit processing images of every tenant
// created before before that no queued or running job will finish.
func (s *Queries) ListStrandedImages(ctx context.Context, before time.Time, limit int) ([]*hotpath.Image, error) {
	var images []*hotpath.Image
	err := s.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.Dialect.Rebind("SELECT "+imageColumns+` FROM images i
			WHERE status = 'processing' AND created_at < ?
			AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.image_id = i.id AND j.state IN ('queued', 'running'))
			ORDER BY created_at LIMIT ?`), s.Dialect.TimeArg(before), limit)
		if err == nil {
			images, err = collect(rows, scanImage)
		}
		return err
	})
	return images, s.Dialect.Err(err, "list stranded images", "", "")
}

// collect reads every row with scan into a non-nil slice and closes rows.
func collect[T any](rows *sql.Rows, scan func(interface{ Scan(dest ...any) error }) (T, error)) ([]T, error) {
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
