-- no-transaction
-- A third client-auth mode, `oauth`; who may connect OAuth clients to a
-- server (JSON of app::model::OAuthAccess; null: only its owner); which
-- client and account made a call.
--
-- SQLite cannot change a CHECK constraint in place, so `servers` and
-- `wizards` are rebuilt (the documented twelve-step way): foreign keys are
-- off meanwhile, so dropping the old tables cascades nothing, and the
-- tables that reference them keep pointing at the new ones by name.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

create table servers_next (
    id text primary key,
    owner_id text not null references users (id) on delete cascade,
    slug text not null unique,
    name text not null,
    spec text not null,                  -- the ServerSpec as JSON (data, not state)
    status text not null default 'draft' check (status in ('draft', 'active', 'disabled')),
    client_auth text not null default 'bearer' check (client_auth in ('public', 'bearer', 'oauth')),
    token_hash text,                     -- SHA-256 hex of the client token; null unless bearer
    calls_per_minute integer,            -- null: the tier's default
    burst integer,
    max_concurrency integer,
    created_at bigint not null,
    updated_at bigint not null,
    kind text not null default 'actions' check (kind in ('actions', 'mcp')),
    source_id text references mcp_sources (id),
    upstream_header text,
    tools_cache text,
    tools_filter text,
    hosting text not null default 'here' check (hosting in ('here', 'vps')),
    target_id text references vps_targets (id),
    allowed_origins text,
    call_timeout_secs integer,
    oauth_access text
);
insert into servers_next (id, owner_id, slug, name, spec, status, client_auth, token_hash, calls_per_minute, burst,
                          max_concurrency, created_at, updated_at, kind, source_id, upstream_header, tools_cache,
                          tools_filter, hosting, target_id, allowed_origins, call_timeout_secs)
    select id, owner_id, slug, name, spec, status, client_auth, token_hash, calls_per_minute, burst,
           max_concurrency, created_at, updated_at, kind, source_id, upstream_header, tools_cache,
           tools_filter, hosting, target_id, allowed_origins, call_timeout_secs
    from servers;
drop table servers;
alter table servers_next rename to servers;
create index servers_owner_id on servers (owner_id);
create index servers_source_id on servers (source_id);

create table wizards_next (
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
    client_auth text check (client_auth in ('public', 'bearer', 'oauth')),
    server_id text,                      -- the draft server, from the auth step on
    created_at bigint not null,
    updated_at bigint not null,
    openapi_document_bytes bigint
);
insert into wizards_next select id, owner_id, description, openapi_url, openapi_document, wizard_step,
    processing_status, processing_error, proposal, selected, client_auth, server_id, created_at, updated_at,
    openapi_document_bytes from wizards;
drop table wizards;
alter table wizards_next rename to wizards;
create index wizards_owner_id on wizards (owner_id);

alter table call_log add column oauth_client text;
alter table call_log add column oauth_user text;

COMMIT;
PRAGMA foreign_keys = ON;
