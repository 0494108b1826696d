-- The whole schema for PostgreSQL (the second backend), as the SQLite
-- migrations in the parent directory leave it (their comments explain the
-- columns). Same tables, columns and rules; every integer is bigint, read
-- as i64 on both backends.

CREATE TABLE users (
    id text primary key,
    email text not null unique,
    password_hash text not null,
    is_admin boolean not null default false,
    tier text not null default 'free' check (tier in ('free', 'paid')),
    created_at bigint not null
);

CREATE TABLE sessions (
    token_hash text primary key,
    user_id text not null references users (id) on delete cascade,
    created_at bigint not null,
    expires_at bigint not null
);

CREATE INDEX sessions_user_id on sessions (user_id);

CREATE INDEX sessions_expires_at on sessions (expires_at);

CREATE TABLE api_tokens (
    id text primary key,
    user_id text not null references users (id) on delete cascade,
    name text not null,
    token_hash text not null unique,
    created_at bigint not null,
    last_used_at bigint,
    expires_at bigint);

CREATE INDEX api_tokens_user_id on api_tokens (user_id);

CREATE TABLE mcp_sources (
    id text primary key,
    owner_id text references users (id) on delete cascade,
    name text not null,
    url text not null,
    description text not null default '',
    enabled boolean not null default true,
    created_by text not null,
    created_at bigint not null,
    updated_at bigint not null
);

CREATE INDEX mcp_sources_owner_id on mcp_sources (owner_id);

CREATE TABLE vps_targets (
    id text primary key,
    owner_id text not null references users (id) on delete cascade,
    name text not null,
    host text not null,
    port bigint not null,
    username text not null,
    base_dir text not null,
    private_key_sealed text not null,
    public_key text not null,
    key_source text not null check (key_source in ('generated', 'pasted')),
    host_key text,
    created_at bigint not null,
    updated_at bigint not null
);

CREATE INDEX vps_targets_owner_id on vps_targets (owner_id);

CREATE TABLE servers (
    id text primary key,
    owner_id text not null references users (id) on delete cascade,
    slug text not null unique,
    name text not null,
    spec text not null,
    status text not null default 'draft' check (status in ('draft', 'active', 'disabled')),
    client_auth text not null default 'bearer' check (client_auth in ('public', 'bearer', 'oauth')),
    token_hash text,
    calls_per_minute bigint,
    burst bigint,
    max_concurrency bigint,
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
    call_timeout_secs bigint,
    oauth_access text
);

CREATE INDEX servers_owner_id on servers (owner_id);

CREATE INDEX servers_source_id on servers (source_id);

CREATE TABLE server_credentials (
    server_id text not null references servers (id) on delete cascade,
    name text not null,
    sealed text not null,
    updated_at bigint not null,
    primary key (server_id, name)
);

CREATE TABLE call_log (
    id text primary key,
    server_id text not null,
    owner_id text not null,
    tool text not null,
    started_at bigint not null,
    duration_ms bigint not null,
    outcome text not null,
    upstream_status bigint,
    error text,
    oauth_client text, oauth_user text);

CREATE INDEX call_log_server_started on call_log (server_id, started_at);

CREATE INDEX call_log_started on call_log (started_at);

CREATE TABLE monthly_usage (
    owner_id text not null,
    month text not null,
    calls bigint not null,
    primary key (owner_id, month)
);

CREATE TABLE wizards (
    id text primary key,
    owner_id text not null references users (id) on delete cascade,
    description text not null,
    openapi_url text,
    openapi_document text,
    wizard_step text not null check (wizard_step in ('describe', 'actions', 'auth', 'deploy', 'complete')),
    processing_status text not null check (processing_status in ('idle', 'processing', 'failed')),
    processing_error text,
    proposal text,
    selected text,
    client_auth text check (client_auth in ('public', 'bearer', 'oauth')),
    server_id text,
    created_at bigint not null,
    updated_at bigint not null,
    openapi_document_bytes bigint
);

CREATE INDEX wizards_owner_id on wizards (owner_id);

CREATE TABLE jobs (
    id text primary key,
    kind text not null,
    wizard_id text not null references wizards (id) on delete cascade,
    state text not null check (state in ('queued', 'running', 'succeeded', 'failed')),
    attempts bigint not null default 0,
    lease_until bigint,
    last_error text,
    created_at bigint not null,
    updated_at bigint not null,
    owner_id text, claimed_by text);

CREATE UNIQUE INDEX jobs_one_open_per_wizard on jobs (wizard_id) where state in ('queued', 'running');

CREATE INDEX jobs_claim on jobs (state, created_at);

CREATE INDEX jobs_owner_state on jobs (owner_id, state);

CREATE TABLE vps_releases (
    server_id text not null references servers (id) on delete cascade,
    number bigint not null,
    supervisor text not null,
    status text not null check (status in ('serving', 'halted', 'stopped', 'failed')),
    endpoint text,
    spec text not null,
    created_at bigint not null,
    primary key (server_id, number)
);

CREATE TABLE vps_operations (
    id text primary key,
    server_id text not null references servers (id) on delete cascade,
    owner_id text not null,
    kind text not null,
    status text not null check (status in ('running', 'succeeded', 'failed')),
    steps text not null default '[]',
    error text,
    started_at bigint not null,
    finished_at bigint
);

CREATE INDEX vps_operations_server on vps_operations (server_id, started_at);

CREATE UNIQUE INDEX vps_operations_one_running on vps_operations (server_id) where status = 'running';

CREATE TABLE instances (
    id text primary key,
    host text not null,
    pid bigint not null,
    started_at bigint not null,
    heartbeat_at bigint not null
);

CREATE TABLE health_scratch (
    id text primary key,
    payload bytea not null
);

CREATE TABLE oauth_clients (
    client_id text primary key,
    kind text not null check (kind in ('document', 'registered')),
    name text,
    client_uri text,
    redirect_uris text not null,
    registered_from text,
    created_at bigint not null,
    fetched_at bigint not null
);

CREATE INDEX oauth_clients_by_address on oauth_clients (registered_from, created_at);

CREATE TABLE oauth_grants (
    id text primary key,
    server_id text not null references servers (id) on delete cascade,
    client_id text not null references oauth_clients (client_id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    created_at bigint not null,
    last_used_at bigint,
    revoked_at bigint,
    unique (server_id, client_id, user_id)
);

CREATE TABLE oauth_codes (
    code_hash text primary key,
    grant_id text not null references oauth_grants (id) on delete cascade,
    redirect_uri text not null,
    challenge text not null,
    expires_at bigint not null,
    used_at bigint
);

CREATE TABLE oauth_tokens (
    token_hash text primary key,
    grant_id text not null references oauth_grants (id) on delete cascade,
    kind text not null check (kind in ('access', 'refresh')),
    family text not null,
    expires_at bigint not null,
    used_at bigint,
    revoked_at bigint
);

CREATE INDEX oauth_tokens_by_family on oauth_tokens (family);

CREATE INDEX oauth_tokens_by_grant on oauth_tokens (grant_id);
