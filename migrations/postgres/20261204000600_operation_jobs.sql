-- Operations on machines run through the durable job queue like generations
-- (see the SQLite migration of the same name): a job is for a wizard or for
-- an operation, and an operation keeps what it was asked (`params`, JSON).
ALTER TABLE vps_operations ADD COLUMN params text;
ALTER TABLE jobs ALTER COLUMN wizard_id DROP NOT NULL;
ALTER TABLE jobs ADD COLUMN operation_id text REFERENCES vps_operations (id) ON DELETE CASCADE;
UPDATE jobs SET kind = 'generate';
ALTER TABLE jobs ADD CONSTRAINT jobs_kind CHECK (kind in ('generate', 'operation'));
ALTER TABLE jobs ADD CONSTRAINT jobs_one_subject CHECK ((wizard_id is null) <> (operation_id is null));
UPDATE vps_operations SET status = 'failed',
       error = 'interrupted: AutoMCP was upgraded during the operation; run it again'
    WHERE status = 'running';
