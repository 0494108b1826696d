-- The create-server wizard and its durable background jobs.

create table wizards (
    id text primary key,
    owner_id text not null references users (id) on delete cascade,
    description text not null,
    openapi_url text,
    openapi_document text,               -- pasted document (at most 5 MB)
    -- The state, in columns (the transitions live in app::wizard::transition).
    wizard_step text not null check (wizard_step in ('describe', 'actions', 'auth', 'deploy', 'complete')),
    processing_status text not null check (processing_status in ('idle', 'processing', 'failed')),
    processing_error text,               -- set exactly when processing_status = 'failed'
    proposal text,                       -- generated data (JSON): the proposed tools
    selected text,                       -- chosen tools (JSON), after the select step
    client_auth text check (client_auth in ('public', 'bearer')),
    server_id text,                      -- the draft server, from the auth step on
    created_at bigint not null,
    updated_at bigint not null
);
create index wizards_owner_id on wizards (owner_id);

-- A job is claimed with a lease; a job whose lease ran out (its process died)
-- is claimed again, up to a few attempts.
create table jobs (
    id text primary key,
    kind text not null,
    wizard_id text not null references wizards (id) on delete cascade,
    state text not null check (state in ('queued', 'running', 'succeeded', 'failed')),
    attempts integer not null default 0,
    lease_until bigint,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null
);
-- At most one unfinished job per wizard.
create unique index jobs_one_open_per_wizard on jobs (wizard_id) where state in ('queued', 'running');
create index jobs_claim on jobs (state, created_at);
