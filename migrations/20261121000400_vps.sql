-- Paid-tier hosting on the owner's machine over SSH. Portable SQL.

create table vps_targets (
    id text primary key,
    owner_id text not null references users (id) on delete cascade,
    name text not null,
    host text not null,
    port integer not null,
    username text not null,
    base_dir text not null,
    private_key_sealed text not null,    -- base64(nonce || AES-256-GCM), bound to owner and target
    public_key text not null,
    key_source text not null check (key_source in ('generated', 'pasted')),
    host_key text,                       -- confirmed SHA-256 fingerprint; null until confirmed
    created_at bigint not null,
    updated_at bigint not null
);
create index vps_targets_owner_id on vps_targets (owner_id);

-- Where a server runs: 'here' (mounted in this process) or 'vps' (forwarded
-- to the release serving on its target).
alter table servers add column hosting text not null default 'here' check (hosting in ('here', 'vps'));
alter table servers add column target_id text references vps_targets (id);

create table vps_releases (
    server_id text not null references servers (id) on delete cascade,
    number integer not null,
    supervisor text not null,
    -- serving; halted: the current release, stopped by its owner; stopped: replaced; failed
    status text not null check (status in ('serving', 'halted', 'stopped', 'failed')),
    endpoint text,
    spec text not null,                  -- the spec this release runs (the mount lists its tools)
    created_at bigint not null,
    primary key (server_id, number)
);

create table vps_operations (
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
create index vps_operations_server on vps_operations (server_id, started_at);
-- One operation at a time per server.
create unique index vps_operations_one_running on vps_operations (server_id) where status = 'running';
