-- One row per revenue leak (METRICS.md "revenue leakage"): approved billable work not invoiced N days after its
-- period ended (one row per engagement and month), billed rates below the rate card, zero-rate billable time,
-- billable time on non-billable projects, time in closed periods that never reached the ERP, and budget overruns.
with unbilled_work as (

    -- T&M work: approved billable time whose ERP time bill is missing or not yet on an invoice
    select
        'approved_work_not_invoiced'                                    as reason_code,
        time_entries.engagement_id,
        time_entries.work_month,
        sum(time_entries.approved_bill_value)                           as amount_at_stake,
        sum(time_entries.approved_bill_value * time_entries.rate_to_reporting) as amount_at_stake_reporting,
        min(time_entries.currency_code)                                 as currency_code,
        sum(time_entries.hours)                                         as hours,
        max(time_entries.period_end_date)                               as period_end_date
    from {{ ref('int_time_entries') }} as time_entries
    join {{ ref('int_engagement_facts') }} as facts using (engagement_id)
    left join {{ ref('int_time_bill_matches') }} as time_bills using (erp_time_bill_id)
    where time_entries.is_approved and time_entries.is_billable and not time_entries.is_internal
      and facts.billing_model = 'time_and_materials'
      and not coalesce(time_bills.is_billed, false)
      and (time_entries.work_month + interval '1 month')::date + {{ var('leakage_grace_days', 10) }}
          < (select as_of_date from {{ ref('int_as_of_date') }})
    group by 1, 2, 3

)

select
    reason_code || ':' || engagement_id || ':' || to_char(work_month, 'YYYY-MM') as leakage_id,
    reason_code,
    'kantata'                                                           as source_system,
    'time_entries'                                                      as source_object,
    engagement_id || ':' || to_char(work_month, 'YYYY-MM')              as source_record_id,
    engagement_id,
    facts.customer_name,
    facts.practice,
    facts.legal_entity,
    work_month                                                          as leak_month,
    round(amount_at_stake, 2)                                           as amount_at_stake,
    currency_code,
    round(amount_at_stake_reporting, 2)                                 as amount_at_stake_reporting,
    (work_month + interval '1 month')::date                             as since_date,
    hours || ' approved billable hours not invoiced ' || {{ var('leakage_grace_days', 10) }} || ' days after the period ended' as detail
from unbilled_work
left join {{ ref('int_engagement_facts') }} as facts using (engagement_id)

union all

select
    issues.issue_id,
    issues.reason_code,
    issues.source_system,
    issues.source_object,
    issues.source_record_id,
    issues.engagement_id,
    issues.customer_name,
    facts.practice,
    facts.legal_entity,
    date_trunc('month', issues.since_date)::date,
    issues.amount_at_stake,
    issues.currency_code,
    issues.amount_at_stake_reporting,
    issues.since_date,
    issues.detail
from {{ ref('int_data_quality_issues') }} as issues
left join {{ ref('int_engagement_facts') }} as facts using (engagement_id)
where issues.reason_code in ('time_in_closed_period', 'bill_rate_differs_from_rate_card', 'zero_rate_on_billable_time',
                             'billable_time_on_non_billable_project', 'negative_budget_remaining',
                             'unapproved_time_marked_billed', 'time_on_inactive_project', 'time_after_assignment_end')
