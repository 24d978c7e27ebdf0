-- Candidates of sync d365_customers: the rows of int_sync_erp_customers routed to Dynamics 365 Finance (their legal
-- entity posts there on the as-of date), as CustomersV3 records of the entity's company (dataAreaId), keyed by their
-- natural key (dataAreaId, CustomerAccount). A CRM account already in that company (PshCrmAccountId, landed or created
-- by the hub) keeps its customer account; a new one is numbered by its CRM account id.
-- Entity: "Customers V3" (CustCustomerV3Entity, set CustomersV3; Common Data Model operationsCommon schema and
-- learn.microsoft.com "Open Data Protocol (OData)" for finance and operations).
select
    candidates.external_id,
    candidates.erp_company                                      as "dataAreaId",
    coalesce(accounts.customer_account, candidates.external_id) as "CustomerAccount",
    candidates."companyName"                                    as "OrganizationName",
    'Services'                                                  as "CustomerGroupId",
    legal_entities.currency_code                                as "SalesCurrencyCode",
    replace(legal_entities.default_payment_terms, ' ', '')      as "PaymentTerms",
    candidates.external_id                                      as "PshCrmAccountId",
    accounts.customer_account                                   as _erp_customer_account,
    candidates._match_method,
    candidates._legal_entity,
    candidates._customer,
    candidates.block_reason_code
from {{ ref('int_sync_erp_customers') }} as candidates
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = candidates._legal_entity
left join {{ d365_customer_accounts() }} as accounts
    on accounts.crm_account_id = candidates.external_id and accounts.data_area_id = candidates.erp_company
where candidates.erp_system = 'dynamics'
