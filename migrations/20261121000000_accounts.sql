-- Accounts, browser sessions and personal API tokens.
-- Portable SQL: text ids, integer epoch seconds, no SQLite-only functions.

create table users (
    id text primary key,
    email text not null unique,          -- stored trimmed and lowercased
    password_hash text not null,         -- argon2id PHC string
    is_admin boolean not null default false,
    tier text not null default 'free' check (tier in ('free', 'paid')),
    created_at bigint not null
);

-- A session cookie holds a random token; only its SHA-256 is stored.
create table sessions (
    token_hash text primary key,
    user_id text not null references users (id) on delete cascade,
    created_at bigint not null,
    expires_at bigint not null
);
create index sessions_user_id on sessions (user_id);
create index sessions_expires_at on sessions (expires_at);

-- Personal API tokens: shown once, stored only as SHA-256.
create table api_tokens (
    id text primary key,
    user_id text not null references users (id) on delete cascade,
    name text not null,
    token_hash text not null unique,
    created_at bigint not null,
    last_used_at bigint
);
create index api_tokens_user_id on api_tokens (user_id);
