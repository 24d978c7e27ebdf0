-- One row per engagement and month with PSA time: the time sums every engagement KPI is built from (engagement_monthly
-- per month, int_engagement_facts over all months), the approved billable work not yet billed in the ERP
-- (revenue_leakage) and the approved billable work not yet posted to it (integration_health), so that no mart
-- re-reads every time entry.
--
-- Incremental (delete+insert by engagement and month): a build recomputes exactly the groups int_time_groups_changed
-- names (those the change set reached), each from its entries. A group left without entries is written with
-- entry_count 0, and the post-hook removes it. So a full refresh and an incremental build give the same rows
-- (tested in tests/dbt).
{{ config(
    materialized='incremental',
    unique_key=['engagement_id', 'work_month'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['engagement_id', 'work_month'], 'unique': True}, {'columns': ['_load_watermark']}],
    post_hook="delete from {{ this }} where entry_count = 0"
) }}

{% set time_entries = ref('int_time_entries') %}
{% set unbilled = "is_approved and is_billable and not is_internal and not is_billed_in_erp" %}
{% set unposted = "is_approved and is_billable and not is_posted_to_erp and not is_period_closed and hours > 0" %}

with changed as (

    -- the groups to recompute (an incremental build): macros/changed_time_groups.sql
    {{ changed_time_groups('engagement_month') }}

),

entries as (

    -- the entries of those groups (every entry, in a full refresh), and whether the entry's ERP time bill is billed:
    -- a change lands as a time bill, which int_time_bill_matches rewrites, and int_time_groups_changed names the
    -- groups of the entries paired with the bills it rewrote
    select time_entries.*, coalesce(time_bills.is_billed, false) as is_billed_in_erp
    from ({{ time_group_entries('engagement_month') }}) as time_entries
    {% if is_incremental() %}
    -- the time bill by its unique index, entry by entry
    left join lateral (
        select is_billed from {{ ref('int_time_bill_matches') }} as matches
        where matches.erp_time_bill_id = time_entries.erp_time_bill_id
        offset 0
    ) as time_bills on true
    {% else %}
    left join {{ ref('int_time_bill_matches') }} as time_bills using (erp_time_bill_id)
    {% endif %}

),

aggregated as (

    select
        engagement_id,
        work_month,
        count(*)                                                        as entry_count,
        sum(hours) filter (where is_approved)                           as approved_hours,
        sum(approved_billable_hours)                                    as approved_billable_hours,
        sum(approved_bill_value)                                        as approved_bill_value,
        sum(approved_bill_value * rate_to_reporting)                    as approved_bill_value_reporting,
        sum(approved_standard_value)                                    as approved_standard_value,
        sum(approved_cost_value)                                        as approved_cost_value,
        sum(approved_cost_value * rate_to_reporting)                    as approved_cost_value_reporting,
        min(work_date) filter (where is_approved)                       as first_approved_work_date,
        -- approved billable client work whose time bill is missing or not billed (revenue_leakage)
        count(*) filter (where {{ unbilled }})                          as unbilled_entry_count,
        sum(hours) filter (where {{ unbilled }})                        as unbilled_hours,
        sum(approved_bill_value) filter (where {{ unbilled }})          as unbilled_value,
        sum(approved_bill_value * rate_to_reporting) filter (where {{ unbilled }}) as unbilled_value_reporting,
        min(currency_code) filter (where {{ unbilled }})                as unbilled_currency_code,
        max(period_end_date) filter (where {{ unbilled }})              as unbilled_period_end_date,
        -- approved billable work in an open period not posted to the ERP (integration_health)
        count(*) filter (where {{ unposted }})                          as unposted_entry_count,
        sum(hours) filter (where {{ unposted }})                        as unposted_hours,
        sum(approved_bill_value) filter (where {{ unposted }})          as unposted_value,
        sum(approved_bill_value * rate_to_reporting) filter (where {{ unposted }}) as unposted_value_reporting,
        min(currency_code) filter (where {{ unposted }})                as unposted_currency_code,
        min(updated_at) filter (where {{ unposted }})                   as unposted_first_updated_at
    from entries
    group by 1, 2

)

select
    {% if is_incremental() %}
    changed.engagement_id,
    changed.work_month,
    coalesce(aggregated.entry_count, 0)                                 as entry_count,
    aggregated.approved_hours,
    aggregated.approved_billable_hours,
    aggregated.approved_bill_value,
    aggregated.approved_bill_value_reporting,
    aggregated.approved_standard_value,
    aggregated.approved_cost_value,
    aggregated.approved_cost_value_reporting,
    aggregated.first_approved_work_date,
    coalesce(aggregated.unbilled_entry_count, 0)                        as unbilled_entry_count,
    aggregated.unbilled_hours,
    aggregated.unbilled_value,
    aggregated.unbilled_value_reporting,
    aggregated.unbilled_currency_code,
    aggregated.unbilled_period_end_date,
    coalesce(aggregated.unposted_entry_count, 0)                        as unposted_entry_count,
    aggregated.unposted_hours,
    aggregated.unposted_value,
    aggregated.unposted_value_reporting,
    aggregated.unposted_currency_code,
    aggregated.unposted_first_updated_at,
    {% else %}
    aggregated.*,
    {% endif %}
    (select coalesce(max(_load_watermark), 0) from {{ time_entries }})  as _load_watermark
{% if is_incremental() %}
from changed
left join aggregated using (engagement_id, work_month)
{% else %}
from aggregated
{% endif %}
