-- One row per customer of the firm: a CRM account, matched to its ERP customer and PSA client.
-- ERP customers no CRM account claims get a row of their own (customer_id 'erp:<id>').
-- The matching, per ERP, is int_customer_erp_matches: erp_customer_id is the account's customer in the ERP its legal
-- entity posts to now (else the one it has); an account with a customer in each ERP has its others there.
-- Survivorship: name, legal entity and owner from the CRM (sales owns the relationship); currency, terms and
-- credit hold from the ERP (finance owns billing); each falls back to the other system when missing. A hold finance
-- set in any of the account's ERPs holds the account: its customer made in the new ERP after a cut-over does not
-- lift the hold its customer has in the old one (the hold stays the same when that new customer lands).
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

    -- within one ERP: an account's customer in each ERP is no duplicate
    select erp_system, name_key, legal_entity, count(*) as customers_with_key
    from erp_customers
    group by 1, 2, 3

),

matches as (

    -- the account's customer the CRM shows, or its ambiguous candidates (int_customer_erp_matches, where each ERP is
    -- matched on its own); every other ERP customer of the account is in that model too
    select crm_account_id, erp_customer_id, match_method
    from {{ ref('int_customer_erp_matches') }}
    where is_primary and crm_account_id is not null

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
        coalesce(matches.match_method, 'unmatched')             as erp_match_method,
        coalesce(accounts.account_name, erp_customers.company_name) as customer_name,
        coalesce(accounts.legal_entity, erp_customers.legal_entity) as legal_entity,
        accounts.legal_entity is null                           as is_missing_legal_entity,
        coalesce(erp_customers.currency_code, accounts.currency_code) as currency_code,
        erp_customers.erp_terms_id,
        case when held.crm_account_id is not null then 'ON' else erp_customers.credit_hold_override end
                                                                as credit_hold_override,
        erp_customers.credit_limit,
        crm_duplicates.crm_account_id is not null               as is_duplicate_in_crm,
        coalesce(erp_duplicates.customers_with_key > 1, false)  as is_duplicate_in_erp,
        accounts.name_key
    from accounts
    left join matches using (crm_account_id)
    left join erp_customers on erp_customers.erp_customer_id = matches.erp_customer_id
    left join psa_clients on psa_clients.name_key = accounts.name_key
    left join crm_duplicates on crm_duplicates.crm_account_id = accounts.crm_account_id
    left join (
        -- the accounts on hold in one of their ERPs (each ERP's customer matched on its own)
        select distinct matched.crm_account_id
        from {{ ref('int_customer_erp_matches') }} as matched
        join erp_customers on erp_customers.erp_system = matched.erp_system
            and erp_customers.erp_customer_id = matched.erp_customer_id
        where matched.crm_account_id is not null and upper(coalesce(erp_customers.credit_hold_override, '')) = 'ON'
    ) as held on held.crm_account_id = accounts.crm_account_id
    left join erp_duplicates on erp_duplicates.erp_system = erp_customers.erp_system
        and erp_duplicates.name_key = erp_customers.name_key
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
    left join erp_duplicates on erp_duplicates.erp_system = erp_customers.erp_system
        and erp_duplicates.name_key = erp_customers.name_key
        and erp_duplicates.legal_entity is not distinct from erp_customers.legal_entity
    where erp_customers.erp_customer_id in (
        select erp_customer_id from {{ ref('int_customer_erp_matches') }} where crm_account_id is null)

)

select * from crm_side
union all
select * from erp_only
