-- How clients connect to a server: the browser origins its owner allows
-- (a JSON array; null means none beyond the defaults) and the call timeout
-- for forwarded calls (null means the default).
alter table servers add column allowed_origins text;
alter table servers add column call_timeout_secs integer;
