-- Candidates of sync d365_projects: the engagements of int_sync_erp_projects routed to Dynamics 365 Finance, as
-- Projects of the entity's company, keyed by (dataAreaId, ProjectID). An engagement already in that company
-- (PshCrmOpportunityId, landed or created by the hub) keeps its project id; a new one is numbered by the CRM
-- opportunity id. The customer is the account's Dynamics customer in the same company (d365_customers runs first).
-- Entity: "Projects" (ProjectEntity, Common Data Model operationsCommon ProjectManagementAndAccounting).
select
    candidates.external_id,
    candidates.erp_company                                      as "dataAreaId",
    coalesce(projects.project_code, candidates.external_id)     as "ProjectID",
    candidates."companyName"                                    as "ProjectName",
    accounts.customer_account                                   as "CustomerAccount",
    'Services'                                                  as "ProjectGroup",
    case when candidates."jobBillingType" = 'TM' then 'TimeMaterial' else 'FixedPrice' end as "ProjectType",
    'InProcess'                                                 as "ProjectStage",
    candidates."startDate"                                      as "StartDate",
    candidates."projectedEndDate"                               as "EndDate",
    candidates._currency                                        as "CurrencyCode",
    candidates.external_id                                      as "PshCrmOpportunityId",
    candidates.custentity_billing_model                         as "PshBillingModel",
    candidates.custentity_service_line                          as "PshServiceLine",
    projects.project_code                                       as _erp_project_code,
    candidates._match_method,
    candidates._customer,
    candidates._engagement,
    candidates._amount_at_stake,
    candidates._currency,
    case
        -- the NetSuite customer is not the point here: the Dynamics one of the same company is
        when candidates.block_reason_code <> 'customer_not_in_erp' then candidates.block_reason_code
        when accounts.customer_account is null then 'customer_not_in_erp'
    end                                                         as block_reason_code
from {{ ref('int_sync_erp_projects') }} as candidates
left join {{ ref('int_engagement_facts') }} as facts on facts.engagement_id = candidates.external_id
left join {{ d365_project_codes() }} as projects
    on projects.engagement_id = candidates.external_id and projects.data_area_id = candidates.erp_company
left join {{ d365_customer_accounts() }} as accounts
    on accounts.crm_account_id = facts.crm_account_id and accounts.data_area_id = candidates.erp_company
where candidates.erp_system = 'dynamics'
