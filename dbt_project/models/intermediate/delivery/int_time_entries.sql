-- One row per PSA time entry: hours, values at bill and cost rate (contract and reporting currency), the
-- engagement, whether and how it reached the ERP, and the data-quality rules (METRICS.md 1-6) it breaks.
with entries as (

    select * from {{ ref('stg_kantata__time_entries') }}

),

projects as (

    select * from {{ ref('int_psa_projects') }}

),

assignments as (

    select psa_project_id, psa_user_id, min(start_date) as assignment_start, max(end_date) as assignment_end
    from {{ ref('stg_kantata__workspace_resources') }}
    group by 1, 2

),

rate_cards as (

    select psa_rate_card_id, psa_role_id, bill_rate as rate_card_rate
    from {{ ref('stg_kantata__rate_card_roles') }}

),

posted as (

    select distinct on (psa_time_entry_id) psa_time_entry_id, erp_time_bill_id, match_method, erp_project_id, created_at
    from {{ ref('int_time_bill_matches') }}
    where psa_time_entry_id is not null
    order by psa_time_entry_id, erp_time_bill_id

),

day_totals as (

    select psa_user_id, work_date, sum(minutes) as day_minutes
    from entries
    group by 1, 2

),

duplicates as (

    select
        psa_time_entry_id,
        row_number() over (
            partition by psa_user_id, psa_project_id, psa_story_id, work_date, minutes, is_billable, bill_rate, notes
            order by length(psa_time_entry_id), psa_time_entry_id
        ) > 1                                                   as is_duplicate  -- the later id is the copy
    from entries

),

enriched as (

    select
        entries.psa_time_entry_id,
        entries.psa_project_id,
        project_keys.engagement_id,
        engagements.erp_project_id,
        entries.psa_user_id,
        resources.erp_employee_id,
        entries.psa_role_id,
        roles.role_name,
        entries.notes,
        entries.work_date,
        date_trunc('week', entries.work_date)::date             as work_week,
        date_trunc('month', entries.work_date)::date            as work_month,
        entries.minutes,
        round(entries.minutes / 60.0, 2)                        as hours,
        entries.bill_rate,
        entries.cost_rate,
        rate_cards.rate_card_rate,
        entries.currency_code,
        coalesce(entries.is_billable, false)                    as is_billable,
        coalesce(entries.is_approved, false)                    as is_approved,
        coalesce(entries.is_invoiced, false)                    as is_invoiced,
        coalesce(projects.is_internal, false)                   as is_internal,
        projects.canonical_status                               as project_status,
        projects.psa_project_id is null                         as is_without_project,
        periods.erp_accounting_period_id,
        coalesce(periods.is_closed, false)                      as is_period_closed,
        periods.end_date                                        as period_end_date,
        -- entered after its period closed: it cannot be posted there any more (rule 1)
        (coalesce(periods.is_closed, false) and entries.created_at::date > periods.closed_on_date)
                                                                as is_entered_after_period_close,
        posted.erp_time_bill_id,
        posted.match_method                                     as erp_posting_match,
        posted.created_at                                       as posted_at,
        rates.rate_to_reporting,
        -- data-quality rules
        (projects.canonical_status in ('completed', 'closed') and entries.work_date > projects.due_date)
                                                                as is_on_inactive_project,
        (assignments.assignment_end is not null and entries.work_date > assignments.assignment_end)
                                                                as is_after_assignment_end,
        duplicates.is_duplicate,
        (day_totals.day_minutes > 24 * 60)                      as is_over_24_hours_day,
        (entries.minutes <= 0)                                  as is_non_positive,
        (coalesce(entries.is_billable, false) and (coalesce(entries.bill_rate, 0) = 0 or coalesce(entries.cost_rate, 0) = 0))
                                                                as is_zero_rate_billable,
        (coalesce(entries.is_billable, false) and entries.bill_rate > 0 and rate_cards.rate_card_rate is not null
            and entries.bill_rate <> rate_cards.rate_card_rate) as is_rate_off_card,
        (not coalesce(entries.is_approved, false) and coalesce(entries.is_invoiced, false))
                                                                as is_unapproved_marked_billed,
        entries.created_at,
        entries.updated_at
    from entries
    left join projects using (psa_project_id)
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system = 'kantata' and project_keys.project_id = entries.psa_project_id
    left join {{ ref('int_engagements_keyed') }} as engagements on engagements.engagement_id = project_keys.engagement_id
    left join {{ ref('int_resources_matched') }} as resources on resources.psa_user_id = entries.psa_user_id
    left join {{ ref('stg_kantata__roles') }} as roles on roles.psa_role_id = entries.psa_role_id
    left join rate_cards on rate_cards.psa_rate_card_id = projects.psa_rate_card_id and rate_cards.psa_role_id = entries.psa_role_id
    left join assignments on assignments.psa_project_id = entries.psa_project_id and assignments.psa_user_id = entries.psa_user_id
    left join {{ ref('int_accounting_periods') }} as periods
        on entries.work_date between periods.start_date and periods.end_date
    left join posted using (psa_time_entry_id)
    left join day_totals on day_totals.psa_user_id = entries.psa_user_id and day_totals.work_date = entries.work_date
    left join duplicates using (psa_time_entry_id)
    left join {{ ref('int_exchange_rates_daily') }} as rates
        on rates.currency_code = entries.currency_code and rates.calendar_date = entries.work_date

)

select
    *,
    -- approved billable client work at the entry's bill rate: what T&M revenue and "delivered" count
    case when is_approved and is_billable and not is_internal then hours * bill_rate else 0 end as approved_bill_value,
    case when is_approved then hours * cost_rate else 0 end as approved_cost_value,
    case when is_approved and is_billable and not is_internal then hours * coalesce(rate_card_rate, bill_rate) else 0 end
                                                                as approved_standard_value,
    erp_time_bill_id is not null                                as is_posted_to_erp
from enriched
