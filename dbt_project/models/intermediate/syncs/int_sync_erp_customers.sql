-- Candidates of sync erp_customers: one row per CRM account with a closed-won opportunity, as a NetSuite
-- customer; block_reason_code says why a row must not be pushed (null = push).
-- An account already matched to a legacy ERP customer carries its id (_erp_customer_id): the engine updates that
-- record (stamping the external id) instead of creating a second customer.
with won_accounts as (

    select distinct crm_account_id from {{ ref('int_engagements_keyed') }}

),

accounts as (

    select * from {{ ref('int_crm_accounts') }}

)

select
    accounts.crm_account_id                                     as external_id,
    accounts.account_name                                       as "companyName",
    legal_entities.erp_subsidiary_id                            as subsidiary,
    legal_entities.erp_currency_id                              as currency,
    legal_entities.erp_terms_id                                 as terms,
    customers.erp_customer_id                                   as _erp_customer_id,
    customers.erp_match_method                                  as _match_method,
    accounts.legal_entity                                       as _legal_entity,
    accounts.account_name                                       as _customer,
    coalesce(routes.erp_system, 'netsuite')                     as erp_system,
    coalesce(routes.erp_company, legal_entities_r.erp_subsidiary_id::text) as erp_company,
    case
        when accounts.legal_entity is null then 'missing_legal_entity'
        when legal_entities.legal_entity is null then 'unknown_legal_entity'
        when customers.is_duplicate_in_crm and customers.erp_customer_id is null then 'duplicate_customer_crm'
        when customers.erp_match_method = 'ambiguous' then 'ambiguous_erp_customer'
    end                                                         as block_reason_code
from won_accounts
join accounts using (crm_account_id)
left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = accounts.legal_entity
left join {{ ref('int_customers_matched') }} as customers on customers.crm_account_id = accounts.crm_account_id
left join {{ ref('int_erp_routes') }} as routes
    on routes.legal_entity = accounts.legal_entity
    and case when null::date is null then routes.is_current
             else (routes.posts_from is null or routes.posts_from <= null::date)
                  and (routes.posts_until is null or null::date < routes.posts_until) end
left join {{ ref('legal_entities') }} as legal_entities_r on legal_entities_r.legal_entity = accounts.legal_entity
