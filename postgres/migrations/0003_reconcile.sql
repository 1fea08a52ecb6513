-- What the reconciler reads (pipeline.Reconcile): jobs still queued or
-- running, by their last update; the jobs of an image; images still
-- processing, by age.

CREATE INDEX jobs_unfinished ON jobs (updated_at) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_image ON jobs (image_id);
CREATE INDEX images_processing ON images (created_at) WHERE status = 'processing';
