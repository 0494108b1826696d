-- Every change to a server bumps its revision (see the SQLite migration of
-- the same name).
ALTER TABLE servers ADD COLUMN revision bigint NOT NULL DEFAULT 0;
CREATE FUNCTION servers_next_revision() RETURNS trigger AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER servers_revision BEFORE UPDATE ON servers
    FOR EACH ROW EXECUTE FUNCTION servers_next_revision();
