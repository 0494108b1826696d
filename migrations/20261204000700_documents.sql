-- OpenAPI documents, stored once per account and content (SHA-256) and
-- compressed, with the index of their operations (compressed JSON) that the
-- wizard searches; wizards refer to one until they finish, and a document no
-- unfinished wizard refers to is deleted.
create table documents (
    owner_id text not null references users (id) on delete cascade,
    sha256 text not null,
    text_bytes bigint not null,
    stored_bytes bigint not null,
    body blob not null,
    operations blob,
    created_at bigint not null,
    primary key (owner_id, sha256)
);
alter table wizards add column document_sha256 text;
