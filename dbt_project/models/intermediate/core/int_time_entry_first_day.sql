-- One row: the first day any live PSA time entry was worked on, and the entry it belongs to. int_calendar_days
-- starts from it; reading it here keeps a cycle from parsing every entry for one date.
-- Incremental and exact: the first day only moves earlier through an entry landed since the last successful
-- build (read through the raw table's load-id index), and later only when the entry holding it changed or was
-- deleted, which this build then sees, and recomputes from every entry.
-- depends_on: {{ ref('int_psa_deleted_time_entries') }}
{{ config(materialized='incremental', unique_key='first_day_key') }}

{% set entries = ref('int_psa_time_entries') %}

{% if is_incremental() %}
with previous as (

    select first_work_date, psa_time_entry_id from {{ this }}

),

holder_changed as (

    -- the entry holding the first day landed again (changed) or left the PSA since
    select exists (
        select 1 from {{ entries }}
        where psa_time_entry_id = (select psa_time_entry_id from previous) and load_id > {{ last_good_build_watermark() }}
        union all
        select 1 from {{ ref('int_psa_deleted_time_entries') }}
        where psa_time_entry_id = (select psa_time_entry_id from previous) and load_id > {{ last_good_build_watermark() }}
    ) as changed

),

candidates as (

    select first_work_date as work_date, psa_time_entry_id from previous
    where not (select changed from holder_changed)
    union all
    select work_date, psa_time_entry_id from {{ entries }}
    where not (select changed from holder_changed) and load_id > {{ last_good_build_watermark() }}
    union all
    -- the holder changed: every entry, as a full refresh reads them
    select work_date, psa_time_entry_id from {{ entries }}
    where (select changed from holder_changed)

)
{% else %}
with candidates as (

    select work_date, psa_time_entry_id from {{ entries }}

)
{% endif %}

-- always one row (empty when no entry is left)
select 1 as first_day_key, first_entry.work_date as first_work_date, first_entry.psa_time_entry_id
from (select 1) as one
left join lateral (
    select work_date, psa_time_entry_id from candidates
    where work_date is not null
    order by work_date, psa_time_entry_id
    limit 1
) as first_entry on true
