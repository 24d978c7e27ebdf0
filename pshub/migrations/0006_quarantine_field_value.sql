-- A record quarantined for one value (typed landing: a date that does not exist, text in a numeric field) says
-- which field and which value, beside the reason and the payload.
alter table ops.quarantine add column field text;
alter table ops.quarantine add column value text;
