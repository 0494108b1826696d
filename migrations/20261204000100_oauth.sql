-- AutoMCP as the OAuth authorization server for its hosted endpoints.

-- Clients: a Client ID Metadata Document (client_id is its https URL,
-- refetched when stale) or a dynamically registered client (RFC 7591).
create table oauth_clients (
    client_id text primary key,
    kind text not null check (kind in ('document', 'registered')),
    name text,
    client_uri text,
    redirect_uris text not null,          -- JSON array
    registered_from text,                 -- client address of a registration (for its limit)
    created_at integer not null,
    fetched_at integer not null
);
create index oauth_clients_by_address on oauth_clients (registered_from, created_at);

-- A user's consent for one client on one server: what the server page lists.
create table oauth_grants (
    id text primary key,
    server_id text not null references servers (id) on delete cascade,
    client_id text not null references oauth_clients (client_id) on delete cascade,
    user_id text not null references users (id) on delete cascade,
    created_at integer not null,
    last_used_at integer,
    revoked_at integer,
    unique (server_id, client_id, user_id)
);

-- Authorization codes (single use, short-lived), stored as SHA-256.
create table oauth_codes (
    code_hash text primary key,
    grant_id text not null references oauth_grants (id) on delete cascade,
    redirect_uri text not null,
    challenge text not null,
    expires_at integer not null,
    used_at integer
);

-- Access and refresh tokens, stored as SHA-256. A refresh token is spent
-- when used; presenting a spent one revokes its whole family.
create table oauth_tokens (
    token_hash text primary key,
    grant_id text not null references oauth_grants (id) on delete cascade,
    kind text not null check (kind in ('access', 'refresh')),
    family text not null,
    expires_at integer not null,
    used_at integer,
    revoked_at integer
);
create index oauth_tokens_by_family on oauth_tokens (family);
create index oauth_tokens_by_grant on oauth_tokens (grant_id);
