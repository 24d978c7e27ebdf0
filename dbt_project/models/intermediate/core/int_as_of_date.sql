-- The date the hub reports "as of": the var as_of_date when set, otherwise the later of today and the newest
-- change any source reported (a sandbox whose clock was advanced by `tick` runs ahead of the wall clock).
-- The newest change is the latest source update time of any opportunity or deal (Salesforce, HubSpot), time entry or ERP transaction (NetSuite
-- transactions; Dynamics 365 Finance invoices and customer payments) landed, deleted or not. A record's update time only grows, so an incremental build reads the rows landed since the last
-- successful build (the raw tables' load-id index) and keeps the later of that and what it had: the same date a
-- full refresh finds by reading every row.
{{ config(materialized='incremental', unique_key='as_of_key') }}

with latest_source_change as (

    {% for system, object in [('salesforce', 'opportunity'), ('hubspot', 'deals'), ('kantata', 'time_entries'),
                              ('certinia', 'pse__timecard__c'), ('netsuite', 'transaction'),
                              ('dynamics', 'freetextinvoiceheaders'), ('dynamics', 'customerpaymentjournallines')] %}
    select max(source_updated_at)::date as latest_change_date from {{ source(system, object) }}
    {% if is_incremental() %}where _load_id > {{ last_good_build_watermark() }}{% endif %}
    union all
    {% endfor %}
    {% if is_incremental() %}
    select latest_change_date from {{ this }}
    {% else %}
    select null::date
    {% endif %}

)

select
    1                                                                as as_of_key,
    max(latest_change_date)                                          as latest_change_date,
    {% if var('as_of_date', none) %}
    date '{{ var("as_of_date") }}'                                   as as_of_date
    {% else %}
    greatest(current_date, coalesce(max(latest_change_date), current_date)) as as_of_date
    {% endif %}
from latest_source_change
