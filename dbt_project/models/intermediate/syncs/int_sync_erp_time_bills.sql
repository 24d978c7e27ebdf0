-- Candidates of sync erp_time_bills: one row per approved or pending billable PSA time entry of a client
-- engagement that is not already in the ERP by the pre-hub process; external id = the PSA time entry id.
-- Pushed only when approved, in an open period, on a keyed project that is not on hold, for a customer not on
-- credit hold, by a person known to the ERP, with a date, hours and a rate that is not negative, and free of
-- data-quality defects; otherwise block_reason_code says why.
-- erp_system, erp_company: the ERP and company the entry goes to (int_sync_erp_record_routes, which says which entries).
-- _hold_reason_code: the first reason of the chain after the ERP's own (project on hold, credit hold, data quality),
-- whatever NetSuite says of project, employee, item and period: a row routed to another ERP is judged against that
-- ERP for those, and keeps its later reasons (int_sync_d365_hour_journal_lines).
with entries as (

    -- _load_watermark from the route, which reads it from int_time_entries too: a cycle's test reading the entries written
    -- since the last build (_load_watermark above its) then reads both of this join's sides through that index
    select entries.*, routed.erp_system, routed.erp_company, routed._load_watermark as _routed_watermark
    from {{ ref('int_sync_erp_record_routes') }} as routed
    join {{ ref('int_time_entries') }} as entries on entries.psa_time_entry_id = routed.record_id
    where routed.sync_name = 'erp_time_bills'

),

facts as (

    select * from {{ ref('int_engagement_facts') }}

),

candidates as (

    select
        entries.psa_time_entry_id                                   as external_id,
        entries.erp_employee_id                                     as employee,
        coalesce(entries.erp_project_id, created.destination_id)    as customer,
        items.erp_item_id                                           as item,
        entries.hours                                               as hours,
        entries.bill_rate                                           as rate,
        true                                                        as "isBillable",
        entries.work_date                                           as "tranDate",
        entries.notes                                               as memo,
        -- NetSuite's time bill to update (a record another ERP holds is that ERP's sync's)
        case when entries.erp_posting_system = 'netsuite' then entries.erp_time_bill_id end as _erp_time_bill_id,
        facts.customer_name                                         as _customer,
        entries.engagement_id                                       as _engagement,
        round(entries.hours * entries.bill_rate, 2)                 as _amount_at_stake,
        entries.currency_code                                       as _currency,
        entries._routed_watermark                                   as _load_watermark,  -- the build that wrote the entry
        case
            when not entries.is_approved then 'unapproved_time'
            -- a value the PSA left empty holds the entry, with what is known of its amount (none without hours)
            when entries.work_date is null then 'time_without_date'
            when entries.minutes is null then 'time_without_hours'
            when entries.bill_rate < 0 then 'negative_rate'
            when entries.engagement_id is null then 'time_without_engagement'
            when coalesce(entries.erp_project_id, created.destination_id) is null then 'engagement_not_in_erp'
            when entries.erp_employee_id is null then 'employee_not_in_erp'
            when items.erp_item_id is null then 'no_service_item_for_role'
            when entries.is_period_closed then 'closed_period'
        end                                                         as _record_reason_code,
        case
            when entries.project_status = 'on_hold' then 'project_on_hold'
            when entries.project_status in ('completed', 'closed') and entries.is_on_inactive_project then 'time_on_inactive_project'
            when collections.is_credit_hold then 'customer_credit_hold'
            when entries.is_non_positive then 'non_positive_hours'
            when entries.is_zero_rate_billable then 'zero_rate_on_billable_time'
            when entries.is_duplicate then 'duplicate_time_entry'
            when entries.is_over_24_hours_day then 'over_24_hours_in_a_day'
        end                                                         as _hold_reason_code,
        entries.erp_system,
        entries.erp_company
    from entries
    left join facts using (engagement_id)
    left join {{ ref('int_sync_created_ids') }} as created
        on created.sync_name = 'erp_projects' and created.record_key = entries.engagement_id
    left join {{ ref('int_customer_collections') }} as collections on collections.customer_id = facts.customer_id
    left join {{ ref('role_service_items') }} as items on items.role_name = entries.role_name

)

select candidates.*, coalesce(_record_reason_code, _hold_reason_code) as block_reason_code
from candidates

