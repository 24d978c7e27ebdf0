-- One row per ERP customer, with the firm's customer it belongs to (customer_id: the CRM account it is matched to, else
-- 'erp:<id>', a customer of its own), and one row per CRM account and ERP where the account's candidates in that ERP are
-- ambiguous (erp_customer_id null). Each ERP is matched on its own: an account whose legal entity moved to another ERP
-- has a customer in each (one per ERP at most), and both customers' invoices are the account's.
-- Match methods, strongest first (per account and ERP the strongest method with any candidate decides):
--   external_id        the ERP customer's external id is the CRM account id (stamped by the hub)
--   crm_erp_id         the CRM account's ERP_Customer_Id__c names the ERP customer (written back by the hub)
--   name_legal_entity  same normalized company name and the same legal entity
-- An account with several candidates at its strongest method in an ERP, or an ERP customer claimed by several accounts
-- at the strongest method claiming it, is never guessed: 'ambiguous'.
-- is_primary: the account's customer the CRM shows (int_customers_matched.erp_customer_id): the one in the ERP its
-- legal entity posts to now (int_erp_routes), else NetSuite's, else the other's; so that it does not change from one
-- cycle to the next as the other ERP's records land.
with accounts as (

    select accounts.*, {{ normalized_name('accounts.account_name') }} as name_key
    from {{ ref('int_crm_accounts') }} as accounts

),

erp_customers as (

    select customers.*, {{ normalized_name('customers.customer_name') }} as name_key
    from {{ ref('int_erp_customers') }} as customers

),

candidates as (

    select accounts.crm_account_id, erp_customers.erp_system, erp_customers.erp_customer_id, 1 as strength,
           'external_id' as match_method
    from accounts join erp_customers on erp_customers.external_id = accounts.crm_account_id
    union all
    select accounts.crm_account_id, erp_customers.erp_system, erp_customers.erp_customer_id, 2, 'crm_erp_id'
    from accounts join erp_customers on erp_customers.erp_customer_id = accounts.erp_customer_id
    union all
    select accounts.crm_account_id, erp_customers.erp_system, erp_customers.erp_customer_id, 3, 'name_legal_entity'
    from accounts
    join erp_customers on erp_customers.name_key = accounts.name_key
        and erp_customers.legal_entity = accounts.legal_entity

),

strongest as (

    -- per account and ERP, the candidates of its strongest method; ties at that strength are ambiguous
    select *, count(*) over (partition by crm_account_id, erp_system) as candidates_at_strength
    from (
        select *, rank() over (partition by crm_account_id, erp_system order by strength) as strength_rank
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

    select crm_account_id, erp_system, erp_customer_id, match_method
    from claimed
    where strength = strongest_claim and claimants = 1

),

account_matches as (

    select crm_account_id, erp_system, erp_customer_id, match_method from matches
    union all
    select distinct crm_account_id, erp_system, null::text, 'ambiguous'
    from strongest
    where not exists (select 1 from matches
                      where matches.crm_account_id = strongest.crm_account_id and matches.erp_system = strongest.erp_system)

),

ranked_account_matches as (

    select
        account_matches.*,
        row_number() over (
            partition by account_matches.crm_account_id
            order by account_matches.erp_customer_id is null, (account_matches.erp_system = routes.erp_system) desc nulls last,
                     account_matches.erp_system desc
        ) = 1                                                               as is_primary
    from account_matches
    join accounts using (crm_account_id)
    left join {{ ref('int_erp_routes') }} as routes on routes.legal_entity = accounts.legal_entity and routes.is_current

)

select crm_account_id as customer_id, crm_account_id, erp_system, erp_customer_id, match_method, is_primary
from ranked_account_matches

union all

select 'erp:' || erp_customer_id, null::text, erp_system, erp_customer_id, 'erp_only', true
from erp_customers
where erp_customer_id not in (select erp_customer_id from matches)
