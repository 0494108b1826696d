-- The free tier's monthly quota, exact across replicas: how many calls of a
-- month each account has been granted (replicas reserve small batches and
-- spend them locally; see server/src/engine/quota.rs). `last_grant` is what
-- the latest reservation granted, read back by it.
CREATE TABLE quota_grants (
    owner_id text not null,
    month text not null,
    granted bigint not null,
    last_grant bigint not null default 0,
    primary key (owner_id, month)
);
