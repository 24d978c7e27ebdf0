-- A cycle whose process died (killed, machine restarted) is marked `abandoned` when the next one starts: its row
-- no longer says `running` for ever.
alter table ops.runs drop constraint if exists runs_status_check;
alter table ops.runs add constraint runs_status_check
    check (status in ('running', 'succeeded', 'partial', 'failed', 'skipped', 'abandoned'));
