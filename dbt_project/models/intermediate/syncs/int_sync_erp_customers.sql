-- Candidates of sync erp_customers: one row per CRM account with a closed-won opportunity, as a NetSuite
-- customer; block_reason_code says why a row must not be pushed (null = push).
-- An account already matched to a legacy ERP customer carries its id (_erp_customer_id): the engine updates that
-- record (stamping the external id) instead of creating a second customer.
-- One row per ERP and company the customer must exist in (erp_system, erp_company): the current route of the
-- account's legal entity and every ERP company a project of its engagements goes to (int_sync_erp_engagement_routes);
-- in NetSuite one customer, under the account's subsidiary.
with won_accounts as (

    select distinct crm_account_id from {{ ref('int_engagements_keyed') }}

),

accounts as (

    select * from {{ ref('int_crm_accounts') }}

),

routes as (

    select
        accounts.crm_account_id,
        {{ erp_route_columns('route', 'legal_entities.erp_subsidiary_id') }}
    from won_accounts
    join accounts using (crm_account_id)
    left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = accounts.legal_entity
    {{ erp_route_join('route', 'accounts.legal_entity') }}
    union
    select engagement_routes.crm_account_id, engagement_routes.erp_system, engagement_routes.erp_company
    from {{ ref('int_sync_erp_engagement_routes') }} as engagement_routes
    where engagement_routes.erp_system <> 'netsuite'
    union
    -- a project in NetSuite needs its customer there: under the account's subsidiary
    select distinct engagement_routes.crm_account_id, 'netsuite', legal_entities.erp_subsidiary_id::text
    from {{ ref('int_sync_erp_engagement_routes') }} as engagement_routes
    join accounts using (crm_account_id)
    left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = accounts.legal_entity
    where engagement_routes.erp_system = 'netsuite'

)

select
    accounts.crm_account_id                                     as external_id,
    accounts.account_name                                       as "companyName",
    legal_entities.erp_subsidiary_id                            as subsidiary,
    legal_entities.erp_currency_id                              as currency,
    legal_entities.erp_terms_id                                 as terms,
    erp_matches.erp_customer_id                                 as _erp_customer_id,
    coalesce(erp_matches.match_method, 'unmatched')             as _match_method,
    accounts.legal_entity                                       as _legal_entity,
    accounts.account_name                                       as _customer,
    case
        when accounts.legal_entity is null then 'missing_legal_entity'
        when legal_entities.legal_entity is null then 'unknown_legal_entity'
        when customers.is_duplicate_in_crm and erp_matches.erp_customer_id is null then 'duplicate_customer_crm'
        when erp_matches.match_method = 'ambiguous' then 'ambiguous_erp_customer'
    end                                                         as block_reason_code,
    routes.erp_system,
    routes.erp_company
from won_accounts
join accounts using (crm_account_id)
join routes using (crm_account_id)
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = accounts.legal_entity
left join {{ ref('int_customers_matched') }} as customers on customers.crm_account_id = accounts.crm_account_id
-- the account's customer in the row's ERP (each ERP matched on its own, int_customer_erp_matches)
left join {{ ref('int_customer_erp_matches') }} as erp_matches
    on erp_matches.crm_account_id = accounts.crm_account_id and erp_matches.erp_system = routes.erp_system
