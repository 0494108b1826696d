-- Call log rows are keyed by the table's own integer rowid instead of a
-- UUID text key: one B-tree fewer and shorter rows on every insert (the call
-- log is written for every tool call). Rows keep their order; their ids are
-- renumbered.
create table call_log_next (
    id integer primary key,
    server_id text not null,
    owner_id text not null,
    tool text not null,
    started_at bigint not null,          -- milliseconds since the epoch
    duration_ms bigint not null,
    outcome text not null,
    upstream_status integer,
    error text,
    oauth_client text,
    oauth_user text
);
insert into call_log_next (server_id, owner_id, tool, started_at, duration_ms, outcome,
                           upstream_status, error, oauth_client, oauth_user)
    select server_id, owner_id, tool, started_at, duration_ms, outcome,
           upstream_status, error, oauth_client, oauth_user
    from call_log order by started_at, id;
drop table call_log;
alter table call_log_next rename to call_log;
create index call_log_server_started on call_log (server_id, started_at);
create index call_log_started on call_log (started_at);
