-- One row per (closed-won opportunity, candidate ERP or PSA project, method): every way a project could be
-- the engagement's. Methods, strongest first (strength 1..3):
--   external_id          the project's external id / CRM Opportunity ID field is the opportunity id (hub-stamped)
--   crm_backlink         the opportunity's ERP_Project_Id__c / PSA_Project_Id__c names the project
--   customer_name_dates  (projects set up by hand before the hub) the project's customer is the opportunity's
--                        customer (the account's matched customer in the project's own ERP, int_customer_erp_matches:
--                        an account whose entity moved to another ERP has one in each, and a NetSuite job stays its
--                        engagement's when the account's Dynamics customer lands; else the same normalized name),
--                        its name contains the
--                        opportunity name (normalized), and it starts within var match_start_window_days of the
--                        opportunity's start date (close date if no start); date_distance ranks the candidates,
--                        so that two deals of one customer with the same name go to their own projects
with opportunities as (

    select
        opportunities.*,
        {{ normalized_name('opportunities.opportunity_name') }} as name_key,
        {{ normalized_name('accounts.account_name') }}          as customer_name_key
    from {{ ref('int_crm_opportunities') }} as opportunities
    left join {{ ref('int_crm_accounts') }} as accounts on accounts.crm_account_id = opportunities.crm_account_id
    where opportunities.is_won

),

account_customers as (

    -- the account's customer in each ERP (not an ambiguous one: that account falls back to the customer's name)
    select crm_account_id, erp_system, erp_customer_id
    from {{ ref('int_customer_erp_matches') }}
    where crm_account_id is not null and erp_customer_id is not null

),

jobs as (

    select
        jobs.*,
        {{ normalized_name('jobs.project_name') }}              as name_key,
        {{ normalized_name('customers.customer_name') }}        as customer_name_key
    from {{ ref('int_erp_projects') }} as jobs
    left join {{ ref('int_erp_customers') }} as customers
        on customers.erp_system = jobs.erp_system and customers.erp_customer_id = jobs.erp_customer_id

),

workspaces as (

    select
        *,
        {{ normalized_name('project_name') }}                   as name_key,
        {{ normalized_name('client_name') }}                    as client_key
    from {{ ref('int_psa_projects') }}
    where not is_internal

)

select opportunities.crm_opportunity_id, jobs.erp_system as source_system, jobs.erp_project_id as project_id,
       1 as strength, 'external_id' as match_method, 0 as date_distance
from opportunities join jobs on jobs.external_id = opportunities.crm_opportunity_id
union all
select opportunities.crm_opportunity_id, jobs.erp_system, jobs.erp_project_id, 1, 'external_id', 0
from opportunities join jobs on jobs.crm_opportunity_id = opportunities.crm_opportunity_id
union all
select opportunities.crm_opportunity_id, jobs.erp_system, jobs.erp_project_id, 2, 'crm_backlink', 0
from opportunities join jobs on jobs.erp_project_id = opportunities.erp_project_id
union all
select opportunities.crm_opportunity_id, jobs.erp_system, jobs.erp_project_id, 3, 'customer_name_dates',
       abs(coalesce(jobs.start_date, jobs.created_date) - coalesce(opportunities.start_date, opportunities.close_date))
from opportunities
join account_customers on account_customers.crm_account_id = opportunities.crm_account_id
join jobs
    on jobs.erp_system = account_customers.erp_system and jobs.erp_customer_id = account_customers.erp_customer_id
    and position(opportunities.name_key in jobs.name_key) > 0
    and abs(coalesce(jobs.start_date, jobs.created_date)
            - coalesce(opportunities.start_date, opportunities.close_date)) <= {{ var('match_start_window_days', 45) }}
union all
-- the same rule where the account has no matched customer in the job's ERP: the job's customer has the account's name
select opportunities.crm_opportunity_id, jobs.erp_system, jobs.erp_project_id, 3, 'customer_name_dates',
       abs(coalesce(jobs.start_date, jobs.created_date) - coalesce(opportunities.start_date, opportunities.close_date))
from opportunities
join jobs
    on not exists (select 1 from account_customers
                   where account_customers.crm_account_id = opportunities.crm_account_id
                     and account_customers.erp_system = jobs.erp_system)
    and jobs.customer_name_key = opportunities.customer_name_key
    and position(opportunities.name_key in jobs.name_key) > 0
    and abs(coalesce(jobs.start_date, jobs.created_date)
            - coalesce(opportunities.start_date, opportunities.close_date)) <= {{ var('match_start_window_days', 45) }}
union all
select opportunities.crm_opportunity_id, workspaces.psa_system, workspaces.psa_project_id, 1, 'external_id', 0
from opportunities join workspaces on workspaces.crm_opportunity_id = opportunities.crm_opportunity_id
union all
select opportunities.crm_opportunity_id, workspaces.psa_system, workspaces.psa_project_id, 2, 'crm_backlink', 0
from opportunities join workspaces on workspaces.psa_project_id = opportunities.psa_project_id
union all
select opportunities.crm_opportunity_id, workspaces.psa_system, workspaces.psa_project_id, 3, 'customer_name_dates',
       abs(workspaces.start_date - coalesce(opportunities.start_date, opportunities.close_date))
from opportunities
join workspaces
    on workspaces.client_key = opportunities.customer_name_key
    and position(opportunities.name_key in workspaces.name_key) > 0
    and workspaces.name_key like '%' || opportunities.name_key
    and abs(workspaces.start_date - coalesce(opportunities.start_date, opportunities.close_date))
        <= {{ var('match_start_window_days', 45) }}
