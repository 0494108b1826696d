-- Resilience: instance heartbeats (the job queue's liveness and the database
-- health probe), fair jobs, expiring API tokens, and wizards that drop their
-- pasted document once it has served. Portable SQL.

-- One row per running process, its heartbeat written every second. A job
-- held by an instance whose heartbeat is stale is taken over.
create table instances (
    id text primary key,
    host text not null,
    pid bigint not null,
    started_at bigint not null,          -- milliseconds since the epoch
    heartbeat_at bigint not null         -- milliseconds since the epoch
);

-- The health probe writes (and removes) a few pages here while the database
-- is degraded, to see whether real writes fit again.
create table health_scratch (
    id text primary key,
    payload bytea not null
);

-- Jobs know their account (fair scheduling, per-account limits) and the
-- instance holding them. lease_until is now the hard deadline of a claim.
alter table jobs add column owner_id text;
alter table jobs add column claimed_by text;
update jobs set owner_id = (select owner_id from wizards where wizards.id = jobs.wizard_id);
create index jobs_owner_state on jobs (owner_id, state);

-- Personal API tokens may expire.
alter table api_tokens add column expires_at bigint;

-- The pasted document is dropped once tools were proposed; its size stays.
alter table wizards add column openapi_document_bytes bigint;
update wizards set openapi_document_bytes = length(openapi_document) where openapi_document is not null;
update wizards set openapi_document = null where wizard_step <> 'describe';
