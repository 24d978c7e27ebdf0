-- One row per customer of the firm: a CRM account, matched to its ERP customer and PSA client.
-- ERP customers no CRM account claims get a row of their own (customer_id 'erp:<id>').
-- Match methods, strongest first:
--   external_id        the ERP customer's externalid is the CRM account id (stamped by the hub)
--   crm_erp_id         the CRM account's ERP_Customer_Id__c names the ERP customer (written back by the hub)
--   name_legal_entity  same normalized company name and the same legal entity (ERP subsidiary)
-- An account with several candidates at its strongest method, or an ERP customer claimed by several accounts at
-- the strongest method claiming it, is never guessed: those accounts are 'ambiguous'.
-- Survivorship: name, legal entity and owner from the CRM (sales owns the relationship); currency, terms and
-- credit hold from the ERP (finance owns billing); each falls back to the other system when missing.
with accounts as (

    select
        accounts.*,
        {{ normalized_name('accounts.account_name') }}          as name_key
    from {{ ref('int_crm_accounts') }} as accounts

),

erp_customers as (

    select
        customers.*,
        customers.customer_name                                 as company_name,
        {{ normalized_name('customers.customer_name') }}        as name_key
    from {{ ref('int_erp_customers') }} as customers

),

crm_duplicates as (

    -- same normalized name and the same legal entity; a missing legal entity does not tell two accounts apart
    select accounts.crm_account_id, count(*) + 1 as accounts_with_key
    from accounts
    join accounts as others
        on others.name_key = accounts.name_key and others.crm_account_id <> accounts.crm_account_id
        and (others.legal_entity = accounts.legal_entity or others.legal_entity is null or accounts.legal_entity is null)
    group by 1

),

erp_duplicates as (

    select name_key, legal_entity, count(*) as customers_with_key
    from erp_customers
    group by 1, 2

),

candidates as (

    select accounts.crm_account_id, erp_customers.erp_customer_id, 1 as strength, 'external_id' as match_method
    from accounts join erp_customers on erp_customers.external_id = accounts.crm_account_id
    union all
    select accounts.crm_account_id, erp_customers.erp_customer_id, 2, 'crm_erp_id'
    from accounts join erp_customers on erp_customers.erp_customer_id = accounts.erp_customer_id
    union all
    select accounts.crm_account_id, erp_customers.erp_customer_id, 3, 'name_legal_entity'
    from accounts
    join erp_customers on erp_customers.name_key = accounts.name_key
        and erp_customers.legal_entity = accounts.legal_entity

),

strongest as (

    -- per account, the candidates of its strongest method; ties at that strength are ambiguous
    select *, count(*) over (partition by crm_account_id) as candidates_at_strength
    from (
        select *, rank() over (partition by crm_account_id order by strength) as strength_rank
        from (select distinct on (crm_account_id, erp_customer_id) * from candidates
              order by crm_account_id, erp_customer_id, strength) as best_per_pair
    ) as ranked
    where strength_rank = 1

),

claimed as (

    -- an ERP customer goes to the account claiming it by the strongest method; several accounts claiming it at
    -- that strength (duplicate accounts) are all left ambiguous rather than one picked silently
    select
        *,
        min(strength) over (partition by erp_customer_id)                  as strongest_claim,
        count(*) over (partition by erp_customer_id, strength)             as claimants
    from strongest
    where candidates_at_strength = 1

),

matches as (

    select crm_account_id, erp_customer_id, match_method
    from claimed
    where strength = strongest_claim and claimants = 1

),

psa_clients as (

    select {{ normalized_name('client_name') }} as name_key, min(client_name) as client_name
    from {{ ref('int_psa_projects') }}
    where client_name is not null
    group by 1

),

crm_side as (

    select
        accounts.crm_account_id                                 as customer_id,
        accounts.crm_account_id,
        matches.erp_customer_id,
        psa_clients.client_name                                 as psa_client_name,
        coalesce(matches.match_method,
            case when exists (select 1 from strongest where strongest.crm_account_id = accounts.crm_account_id)
                 then 'ambiguous' else 'unmatched' end)         as erp_match_method,
        coalesce(accounts.account_name, erp_customers.company_name) as customer_name,
        coalesce(accounts.legal_entity, erp_customers.legal_entity) as legal_entity,
        accounts.legal_entity is null                           as is_missing_legal_entity,
        coalesce(erp_customers.currency_code, accounts.currency_code) as currency_code,
        erp_customers.erp_terms_id,
        erp_customers.credit_hold_override,
        erp_customers.credit_limit,
        crm_duplicates.crm_account_id is not null               as is_duplicate_in_crm,
        coalesce(erp_duplicates.customers_with_key > 1, false)  as is_duplicate_in_erp,
        accounts.name_key
    from accounts
    left join matches using (crm_account_id)
    left join erp_customers on erp_customers.erp_customer_id = matches.erp_customer_id
    left join psa_clients on psa_clients.name_key = accounts.name_key
    left join crm_duplicates on crm_duplicates.crm_account_id = accounts.crm_account_id
    left join erp_duplicates on erp_duplicates.name_key = erp_customers.name_key
        and erp_duplicates.legal_entity is not distinct from erp_customers.legal_entity

),

erp_only as (

    select
        'erp:' || erp_customers.erp_customer_id                 as customer_id,
        null::text                                              as crm_account_id,
        erp_customers.erp_customer_id,
        psa_clients.client_name                                 as psa_client_name,
        'erp_only'                                              as erp_match_method,
        erp_customers.company_name                              as customer_name,
        erp_customers.legal_entity,
        erp_customers.legal_entity is null                      as is_missing_legal_entity,
        erp_customers.currency_code,
        erp_customers.erp_terms_id,
        erp_customers.credit_hold_override,
        erp_customers.credit_limit,
        false                                                   as is_duplicate_in_crm,
        erp_duplicates.customers_with_key > 1                   as is_duplicate_in_erp,
        erp_customers.name_key
    from erp_customers
    left join psa_clients on psa_clients.name_key = erp_customers.name_key
    left join erp_duplicates on erp_duplicates.name_key = erp_customers.name_key
        and erp_duplicates.legal_entity is not distinct from erp_customers.legal_entity
    where erp_customers.erp_customer_id not in (select erp_customer_id from matches)

)

select * from crm_side
union all
select * from erp_only
