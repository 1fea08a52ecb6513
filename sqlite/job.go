package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/hotpath/hotpath"
	"github.com/hotpath/hotpath/internal/sqlstore"
)

// CreateJob records j, filling an empty ID, an empty State (queued) and the
// times. Its tenant, and its batch when it has one, must exist and the batch
// must be the tenant's (ENOTFOUND).
func (s *Store) CreateJob(ctx context.Context, j *hotpath.Job) error {
	s.clock.PrepareJob(j)
	_, err := s.writer.ExecContext(ctx, `INSERT INTO jobs (id, tenant_id, kind, image_id, batch_id, filename, state, attempts, error, result, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.TenantID, string(j.Kind), j.ImageID, nullString(j.BatchID), j.Filename, string(j.State), j.Attempts,
		j.Error, nullJSON(j.Result), micros(j.CreatedAt), micros(j.UpdatedAt))
	return dbError(err, "create job", "", "tenant or batch not found")
}

// nullJSON stores an empty result as NULL.
func nullJSON(m json.RawMessage) []byte {
	if len(m) == 0 {
		return nil
	}
	return m
}

const jobColumns = "id, tenant_id, kind, image_id, coalesce(batch_id, ''), filename, state, attempts, error, result, created_at, updated_at"

func scanJob(row scanner) (*hotpath.Job, error) {
	var j hotpath.Job
	var kind, state string
	var result []byte
	var created, updated int64
	err := row.Scan(&j.ID, &j.TenantID, &kind, &j.ImageID, &j.BatchID, &j.Filename, &state, &j.Attempts,
		&j.Error, &result, &created, &updated)
	if err != nil {
		return nil, err
	}
	j.Kind = hotpath.JobKind(kind)
	j.State = hotpath.JobState(state)
	if len(result) > 0 {
		j.Result = json.RawMessage(result)
	}
	j.CreatedAt = fromMicros(created)
	j.UpdatedAt = fromMicros(updated)
	return &j, nil
}

// GetJob returns the tenant's job.
func (s *Store) GetJob(ctx context.Context, tenantID, id string) (*hotpath.Job, error) {
	j, err := scanJob(s.reader.QueryRowContext(ctx, "SELECT "+jobColumns+" FROM jobs WHERE tenant_id = ? AND id = ?", tenantID, id))
	if err != nil {
		return nil, dbError(err, "get job", "job not found", "")
	}
	return j, nil
}

// UpdateJob stores j's state, attempts, error and result, and sets UpdatedAt
// to now. The job is found by ID and tenant.
func (s *Store) UpdateJob(ctx context.Context, j *hotpath.Job) error {
	updated := s.clock.Stamp(time.Time{})
	res, err := s.writer.ExecContext(ctx, `UPDATE jobs SET state = ?, attempts = ?, error = ?, result = ?, updated_at = ?
		WHERE tenant_id = ? AND id = ?`,
		string(j.State), j.Attempts, j.Error, nullJSON(j.Result), micros(updated), j.TenantID, j.ID)
	if err != nil {
		return dbError(err, "update job", "", "")
	}
	if err := sqlstore.MustAffect(res, "job not found"); err != nil {
		return err
	}
	j.UpdatedAt = updated
	return nil
}

// CreateBatch records b, filling an empty ID and a zero CreatedAt. The
// counters are not stored: GetBatch counts them from the batch's jobs.
func (s *Store) CreateBatch(ctx context.Context, b *hotpath.Batch) error {
	if err := s.clock.PrepareBatch(b); err != nil {
		return err
	}
	_, err := s.writer.ExecContext(ctx, "INSERT INTO batches (id, tenant_id, total, created_at) VALUES (?, ?, ?, ?)",
		b.ID, b.TenantID, b.Total, micros(b.CreatedAt))
	return dbError(err, "create batch", "", "tenant not found")
}

// GetBatch returns the tenant's batch with its jobs counted by state. Total
// is the larger of the total given at creation and the number of jobs, so a
// batch whose jobs are still being added shows how many are expected.
func (s *Store) GetBatch(ctx context.Context, tenantID, id string) (*hotpath.Batch, error) {
	var b hotpath.Batch
	err := s.read(ctx, func(tx *sql.Tx) error {
		var created int64
		err := tx.QueryRowContext(ctx, "SELECT id, tenant_id, total, created_at FROM batches WHERE tenant_id = ? AND id = ?",
			tenantID, id).Scan(&b.ID, &b.TenantID, &b.Total, &created)
		if err != nil {
			return err
		}
		b.CreatedAt = fromMicros(created)
		rows, err := tx.QueryContext(ctx, "SELECT state, count(*) FROM jobs WHERE batch_id = ? GROUP BY state", id)
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
			sqlstore.CountState(&b, hotpath.JobState(state), n)
			jobs += n
		}
		b.Total = max(b.Total, jobs)
		return rows.Err()
	})
	if err != nil {
		return nil, dbError(err, "get batch", "batch not found", "")
	}
	return &b, nil
}

// ListBatchJobs returns the jobs of the tenant's batch in the order they were
// added; ENOTFOUND when the tenant has no such batch.
func (s *Store) ListBatchJobs(ctx context.Context, tenantID, batchID string) ([]*hotpath.Job, error) {
	jobs := []*hotpath.Job{}
	err := s.read(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1 FROM batches WHERE tenant_id = ? AND id = ?", tenantID, batchID).Scan(&one); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, "SELECT "+jobColumns+" FROM jobs WHERE batch_id = ? ORDER BY seq", batchID)
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
		return nil, dbError(err, "list batch jobs", "batch not found", "")
	}
	return jobs, nil
}
