-- Hosted MCP servers, their sealed upstream credentials, the call log and
-- monthly usage. Portable SQL, as in the first migration.

create table servers (
    id text primary key,
    owner_id text not null references users (id) on delete cascade,
    slug text not null unique,
    name text not null,
    spec text not null,                  -- the ServerSpec as JSON (data, not state)
    status text not null default 'draft' check (status in ('draft', 'active', 'disabled')),
    client_auth text not null default 'bearer' check (client_auth in ('public', 'bearer')),
    token_hash text,                     -- SHA-256 hex of the client token; null when public
    calls_per_minute integer,            -- null: the tier's default
    burst integer,
    max_concurrency integer,
    created_at bigint not null,
    updated_at bigint not null
);
create index servers_owner_id on servers (owner_id);

-- base64(nonce || AES-256-GCM ciphertext), bound to owner, server and name.
create table server_credentials (
    server_id text not null references servers (id) on delete cascade,
    name text not null,
    sealed text not null,
    updated_at bigint not null,
    primary key (server_id, name)
);

-- One row per tool call; no arguments, results or secrets. Pruned after 14 days.
create table call_log (
    id text primary key,
    server_id text not null,
    owner_id text not null,
    tool text not null,
    started_at bigint not null,          -- milliseconds since the epoch
    duration_ms bigint not null,
    outcome text not null,
    upstream_status integer,
    error text
);
create index call_log_server_started on call_log (server_id, started_at);
create index call_log_started on call_log (started_at);

create table monthly_usage (
    owner_id text not null,
    month text not null,                 -- YYYY-MM, UTC
    calls bigint not null,
    primary key (owner_id, month)
);
