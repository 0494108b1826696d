-- Operations on machines (deploy, rollback, stop, start, remove) run through
-- the durable job queue like generations, so any replica runs them and a
-- dead replica's operation is closed by another: a job is for a wizard or
-- for an operation. An operation keeps what it was asked (`params`, JSON).
--
-- SQLite cannot drop a NOT NULL in place, so `jobs` is rebuilt (nothing
-- references it).
alter table vps_operations add column params text;

create table jobs_next (
    id text primary key,
    kind text not null check (kind in ('generate', 'operation')),
    wizard_id text references wizards (id) on delete cascade,
    operation_id text references vps_operations (id) on delete cascade,
    state text not null check (state in ('queued', 'running', 'succeeded', 'failed')),
    attempts bigint not null default 0,
    lease_until bigint,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null,
    owner_id text,
    claimed_by text,
    check ((wizard_id is null) <> (operation_id is null))
);
insert into jobs_next (id, kind, wizard_id, state, attempts, lease_until, last_error, created_at, updated_at,
                       owner_id, claimed_by)
    select id, 'generate', wizard_id, state, attempts, lease_until, last_error, created_at, updated_at, owner_id,
           claimed_by
    from jobs;
drop table jobs;
alter table jobs_next rename to jobs;
create unique index jobs_one_open_per_wizard on jobs (wizard_id) where state in ('queued', 'running');
create index jobs_claim on jobs (state, created_at);
create index jobs_owner_state on jobs (owner_id, state);

-- Operations a process was running when it stopped, before operations were
-- jobs, can never finish.
update vps_operations set status = 'failed',
       error = 'interrupted: AutoMCP was upgraded during the operation; run it again'
    where status = 'running';
