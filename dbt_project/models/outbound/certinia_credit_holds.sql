-- Sync psa_credit_holds when the PSA is Certinia (PSHUB_PSA=certinia; reverse_etl/syncs.py, for_psa): the credit-hold
-- flag of int_sync_psa_credit_holds on each Certinia project of a client engagement, as the firm's checkbox
-- Credit_Hold__c on the project (pse__Proj__c; the field Kantata keeps as its "Credit Hold" custom field, read back by
-- stg_certinia__projects), updated by the project's Id. Kantata's one reason to hold a row back (its custom field not
-- defined) does not apply: the field is part of the Certinia project, so every row is pushed.
select
    external_id                                                 as "Id",
    value = 'true'                                              as "Credit_Hold__c",
    _customer,
    _engagement,
    _amount_at_stake,
    _currency
from {{ ref('int_sync_psa_credit_holds') }}
