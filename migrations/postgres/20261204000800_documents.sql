-- OpenAPI documents, stored once per account and content (see the SQLite
-- migration of the same name).
CREATE TABLE documents (
    owner_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256 text NOT NULL,
    text_bytes bigint NOT NULL,
    stored_bytes bigint NOT NULL,
    body bytea NOT NULL,
    operations bytea,
    created_at bigint NOT NULL,
    PRIMARY KEY (owner_id, sha256)
);
ALTER TABLE wizards ADD COLUMN document_sha256 text;
