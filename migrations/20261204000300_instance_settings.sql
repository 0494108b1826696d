-- Settings of the instance as a whole, shared by every process on the
-- database: e.g. `key_check`, a one-way fingerprint of the instance key, so
-- a process given a different key refuses to start instead of sealing
-- credentials no other process can open.
CREATE TABLE instance_settings (
    name text primary key,
    value text not null
);
