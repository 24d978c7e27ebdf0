-- The date the hub reports "as of": the var as_of_date when set, otherwise the later of today and the newest
-- change any source reported (a sandbox whose clock was advanced by `tick` runs ahead of the wall clock).
with latest_source_change as (

    select max(updated_at)::date as latest_change_date from {{ ref('stg_salesforce__opportunities') }}
    union all
    select max(updated_at)::date from {{ ref('stg_kantata__time_entries') }}
    union all
    select max(updated_at)::date from {{ ref('stg_netsuite__transactions') }}

)

select
    {% if var('as_of_date', none) %}
    date '{{ var("as_of_date") }}'                                   as as_of_date
    {% else %}
    greatest(current_date, coalesce(max(latest_change_date), current_date)) as as_of_date
    {% endif %}
from latest_source_change
