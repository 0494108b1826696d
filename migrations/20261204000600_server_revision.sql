-- Every change to a server bumps its revision (a trigger, so no statement can
-- forget it): replicas compare the revision they mounted with the stored one
-- to notice a change whose announcement they missed (updated_at has only
-- second resolution).
alter table servers add column revision bigint not null default 0;
create trigger servers_revision after update on servers
when new.revision = old.revision
begin
    update servers set revision = old.revision + 1 where id = new.id;
end;
