-- Upstream MCP servers ("sources") and servers made from them. Portable SQL.

-- owner_id null: registered by an admin for every account; otherwise private.
create table mcp_sources (
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
create index mcp_sources_owner_id on mcp_sources (owner_id);

-- A server's tools are its spec's HTTP actions ('actions') or tools chosen
-- from a source and forwarded to it ('mcp'). For 'mcp' servers the spec
-- column keeps name, slug and description with no tools; the source's
-- auth header name is here and its value sealed in server_credentials.
alter table servers add column kind text not null default 'actions' check (kind in ('actions', 'mcp'));
alter table servers add column source_id text references mcp_sources (id);
alter table servers add column upstream_header text;
alter table servers add column tools_cache text;
alter table servers add column tools_filter text;
create index servers_source_id on servers (source_id);
