-- One row per revenue leak (docs/kpis.md "revenue leakage"): approved billable work not invoiced N days after its
-- period ended (one row per engagement and month), billed rates below the rate card, zero-rate billable time,
-- billable time on non-billable projects, time in closed periods that never reached the ERP, and budget overruns.
with unbilled_work as (

    -- T&M work: approved billable time whose ERP time bill is missing or not yet on an invoice (summed by
    -- engagement and month in int_time_engagement_months)
    select
        'approved_work_not_invoiced'                                    as reason_code,
        months.engagement_id,
        months.work_month,
        months.unbilled_value                                           as amount_at_stake,
        months.unbilled_value_reporting                                 as amount_at_stake_reporting,
        months.unbilled_currency_code                                   as currency_code,
        months.unbilled_hours                                           as hours,
        months.unbilled_period_end_date                                 as period_end_date
    from {{ ref('int_time_engagement_months') }} as months
    join {{ ref('int_engagement_facts') }} as facts using (engagement_id)
    where months.unbilled_entry_count > 0
      and facts.billing_model = 'time_and_materials'
      and (months.work_month + interval '1 month')::date + {{ var('leakage_grace_days', 10) }}
          < (select as_of_date from {{ ref('int_as_of_date') }})

)

select
    reason_code || ':' || engagement_id || ':' || to_char(work_month, 'YYYY-MM') as leakage_id,
    reason_code,
    {{ installed_psa() }}                                                 as source_system,
    {{ psa_object(installed_psa(), 'time_entries') }}                   as source_object,
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
