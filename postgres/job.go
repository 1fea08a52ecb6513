package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hotpath/hotpath"
)

// CreateJob records j, filling an empty ID, an empty State (queued) and the
// times. Its tenant, and its batch when it has one, must exist and the batch
// must be the tenant's (ENOTFOUND).
func (s *Store) CreateJob(ctx context.Context, j *hotpath.Job) error {
	s.clock.PrepareJob(j)
	_, err := s.pool.Exec(ctx, `INSERT INTO jobs (id, tenant_id, kind, image_id, batch_id, filename, state, attempts, error, result, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		j.ID, j.TenantID, string(j.Kind), j.ImageID, nullString(j.BatchID), j.Filename, string(j.State), j.Attempts,
		j.Error, nullJSON(j.Result), j.CreatedAt, j.UpdatedAt)
	return dbError(err, "create job", "", "tenant or batch not found")
}

// nullJSON passes a result as JSON text, an empty one as NULL.
func nullJSON(m json.RawMessage) *string {
	if len(m) == 0 {
		return nil
	}
	s := string(m)
	return &s
}

const jobColumns = "id, tenant_id, kind, image_id, coalesce(batch_id, ''), filename, state, attempts, error, result::text, created_at, updated_at"

func scanJob(row pgx.Row) (*hotpath.Job, error) {
	var j hotpath.Job
	var kind, state string
	var result *string
	err := row.Scan(&j.ID, &j.TenantID, &kind, &j.ImageID, &j.BatchID, &j.Filename, &state, &j.Attempts,
		&j.Error, &result, &j.CreatedAt, &j.UpdatedAt)
	if err != nil {
		return nil, err
	}
	j.Kind = hotpath.JobKind(kind)
	j.State = hotpath.JobState(state)
	if result != nil && *result != "" {
		j.Result = json.RawMessage(*result)
	}
	j.CreatedAt = j.CreatedAt.UTC()
	j.UpdatedAt = j.UpdatedAt.UTC()
	return &j, nil
}

// GetJob returns the tenant's job.
func (s *Store) GetJob(ctx context.Context, tenantID, id string) (*hotpath.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, "SELECT "+jobColumns+" FROM jobs WHERE tenant_id = $1 AND id = $2", tenantID, id))
	if err != nil {
		return nil, dbError(err, "get job", "job not found", "")
	}
	return j, nil
}

// UpdateJob stores j's state, attempts, error and result, and sets UpdatedAt
// to now. The job is found by ID and tenant.
func (s *Store) UpdateJob(ctx context.Context, j *hotpath.Job) error {
	updated := s.clock.Stamp(time.Time{})
	tag, err := s.pool.Exec(ctx, `UPDATE jobs SET state = $1, attempts = $2, error = $3, result = $4, updated_at = $5
		WHERE tenant_id = $6 AND id = $7`,
		string(j.State), j.Attempts, j.Error, nullJSON(j.Result), updated, j.TenantID, j.ID)
	if err != nil {
		return dbError(err, "update job", "", "")
	}
	if err := mustAffect(tag, "job not found"); err != nil {
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
	_, err := s.pool.Exec(ctx, "INSERT INTO batches (id, tenant_id, total, created_at) VALUES ($1, $2, $3, $4)",
		b.ID, b.TenantID, b.Total, b.CreatedAt)
	return dbError(err, "create batch", "", "tenant not found")
}

// GetBatch returns the tenant's batch with its jobs counted by state, in one
// query. Total is the larger of the total given at creation and the number
// of jobs, so a batch whose jobs are still being added shows how many are expected.
func (s *Store) GetBatch(ctx context.Context, tenantID, id string) (*hotpath.Batch, error) {
	var b hotpath.Batch
	err := s.pool.QueryRow(ctx, `SELECT b.id, b.tenant_id, b.created_at,
			greatest(b.total, count(j.seq))::int,
			(count(*) FILTER (WHERE j.state = 'queued'))::int,
			(count(*) FILTER (WHERE j.state = 'running'))::int,
			(count(*) FILTER (WHERE j.state = 'succeeded'))::int,
			(count(*) FILTER (WHERE j.state = 'failed'))::int
		FROM batches b LEFT JOIN jobs j ON j.batch_id = b.id
		WHERE b.tenant_id = $1 AND b.id = $2
		GROUP BY b.id`, tenantID, id).
		Scan(&b.ID, &b.TenantID, &b.CreatedAt, &b.Total, &b.Queued, &b.Running, &b.Succeeded, &b.Failed)
	if err != nil {
		return nil, dbError(err, "get batch", "batch not found", "")
	}
	b.CreatedAt = b.CreatedAt.UTC()
	return &b, nil
}

// ListBatchJobs returns the jobs of the tenant's batch in the order they were
// added; ENOTFOUND when the tenant has no such batch.
func (s *Store) ListBatchJobs(ctx context.Context, tenantID, batchID string) ([]*hotpath.Job, error) {
	jobs := []*hotpath.Job{}
	err := s.readTx(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, "SELECT 1 FROM batches WHERE tenant_id = $1 AND id = $2", tenantID, batchID).Scan(&one); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT "+jobColumns+" FROM jobs WHERE batch_id = $1 ORDER BY seq", batchID)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*hotpath.Job, error) { return scanJob(row) })
		if list != nil {
			jobs = list
		}
		return err
	})
	if err != nil {
		return nil, dbError(err, "list batch jobs", "batch not found", "")
	}
	return jobs, nil
}
