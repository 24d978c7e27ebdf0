-- Reconciliation: approved hours and approved expenses in the PSA (raw), in total and on the projects of
-- engagements, equal the marts (resource_utilization_weekly for all hours, engagements for engagement hours and
-- expenses). Returns the measures that differ.
with raw_entries as (

    -- time with no date is in no week or month of the marts (a billable entry is held by sync erp_time_bills,
    -- reason time_without_date)
    select data ->> 'workspace_id' as psa_project_id, {{ json_numeric('time_in_minutes') }} / 60 as hours
    from {{ source('kantata', 'time_entries') }}
    where not is_deleted and {{ json_bool('approved') }} and {{ json_date('date_performed') }} is not null
    union all
    -- Certinia: the approved timecard splits' hours (every day of a split is dated)
    select data ->> 'pse__Project__c', {{ json_numeric('pse__Total_Hours__c') }}
    from {{ source('certinia', 'pse__timecard__c') }}
    where not is_deleted and {{ json_bool('pse__Approved__c') }}

),

raw_expenses as (

    select data ->> 'workspace_id' as psa_project_id, {{ json_numeric('amount_in_cents') }} / 100 as amount,
           data ->> 'currency' as currency_code
    from {{ source('kantata', 'expenses') }}
    where not is_deleted and {{ json_bool('approved') }}
    union all
    select data ->> 'pse__Project__c', {{ json_numeric('pse__Amount__c') }}, data ->> 'CurrencyIsoCode'
    from {{ source('certinia', 'pse__expense__c') }}
    where not is_deleted and {{ json_bool('pse__Approved__c') }}

),

engagement_projects as (

    select project_id as psa_project_id
    from {{ ref('int_project_keys') }}
    where source_system in {{ psa_systems() }} and engagement_id is not null

),

checks as (

    select 'approved hours, all' as measure,
           (select sum(hours) from raw_entries) as source_value,
           (select sum(approved_hours) from {{ ref('resource_utilization_weekly') }}) as mart_value
    union all
    select 'approved hours, engagements',
           (select sum(hours) from raw_entries join engagement_projects using (psa_project_id)),
           (select sum(approved_hours) from {{ ref('engagements') }})
    union all
    select 'approved expenses, engagements',
           (select sum(amount) from raw_expenses join engagement_projects using (psa_project_id)),
           (select sum(expense_cost) from {{ ref('engagements') }})

)

select * from checks where coalesce(source_value, 0) <> coalesce(mart_value, 0)
