-- The source's own clock when a load's read began (at the latest: the earliest HTTP Date of its responses less
-- their round trip, connectors/http.py SourceClock), kept by every load, also one that lands nothing and leaves the
-- cursor where it was. The next incremental read of the object starts at the cursor or this time less the overlap,
-- whichever is earlier (flows/objects.py read_since); null: the source sent no Date, the read starts at the cursor
-- less the overlap.
alter table ops.loads add column if not exists source_read_from timestamptz;
