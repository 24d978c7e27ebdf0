-- One row per payment (or credit memo) applied to an invoice, from the ERP role (every ERP's applications). Amounts
-- in the invoice's currency.
--
-- Incremental (delete+insert by application): a row is read from a few records only (NetSuite: the transaction link,
-- its invoice and its payment or credit memo; Dynamics 365 Finance: the payment journal line and the posted invoices
-- of its company with the number it is marked against), so a build applies again only the applications whose
-- records landed (or were deleted) since the last successful build (macro last_good_build_watermark):
--   a link or a payment line landed since
--   an application held here whose invoice or payment landed or was deleted since (a Dynamics invoice deleted: one
--     held here that is no longer live)
--   a link not held here (its invoice or payment had not landed, or was of another type), each build: which
--     transaction it names is in its own record only; and a link or payment line held here that is no longer live
--     (both by id: the raw tables' primary keys, nothing parsed but those links)
--   a Dynamics payment line marked against the number of an invoice landed since (that company's payment lines
--     parsed, only when one did)
-- An application applied again that is gone (its link, payment or invoice deleted, or no longer of its type) gets one
-- row with erp_system 'gone', so that delete+insert drops its row, and the post-hook removes that one, in the same
-- transaction. So a full refresh gives the same rows (tested in tests/dbt, for each kind of change).
-- depends_on: {{ ref('stg_netsuite__transactions') }}
-- depends_on: {{ ref('stg_netsuite__deleted_transactions') }}
-- depends_on: {{ ref('stg_netsuite__transaction_links') }}
-- depends_on: {{ ref('stg_dynamics__invoices') }}
-- depends_on: {{ ref('stg_dynamics__payment_journal_lines') }}
{{ config(
    materialized='incremental',
    unique_key='payment_application_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['payment_application_id']}, {'columns': ['erp_invoice_id']}, {'columns': ['erp_payment_id']}],
    post_hook="delete from {{ this }} where erp_system = 'gone'"
) }}

{% if is_incremental() %}
{% set since = last_good_build_watermark() %}

with netsuite_transactions_landed as (

    select erp_transaction_id from {{ ref('stg_netsuite__transactions') }} where load_id > {{ since }}
    union all
    select erp_transaction_id from {{ ref('stg_netsuite__deleted_transactions') }} where load_id > {{ since }}

),

dynamics_invoices_landed as (

    select erp_invoice_id, legal_entity_code, invoice_number from {{ ref('stg_dynamics__invoices') }}
    where load_id > {{ since }}

),

held as (

    select payment_application_id, erp_system, erp_invoice_id, erp_payment_id from {{ this }}

),

reapplied as (

    select erp_transaction_link_id as payment_application_id
    from {{ ref('stg_netsuite__transaction_links') }}
    where load_id > {{ since }}
    union
    select erp_payment_id from {{ ref('stg_dynamics__payment_journal_lines') }}
    where load_id > {{ since }}
    union
    select held.payment_application_id
    from held
    where held.erp_system = 'netsuite'
      and (held.erp_invoice_id = any(array(select erp_transaction_id from netsuite_transactions_landed))
           or held.erp_payment_id = any(array(select erp_transaction_id from netsuite_transactions_landed)))
    union
    select held.payment_application_id
    from held
    where held.erp_system = 'dynamics'
      and held.erp_invoice_id = any(array(select erp_invoice_id from dynamics_invoices_landed))
    union
    -- links and payment lines live not held here, and held here not live: compared by id alone
    select coalesce(live.id, held.payment_application_id)
    from (
        select erp_transaction_link_id as id, 'netsuite' as erp_system from {{ ref('stg_netsuite__transaction_links') }}
        union all
        select erp_payment_id, 'dynamics' from {{ ref('stg_dynamics__payment_journal_lines') }}
    ) as live
    full join held on held.payment_application_id = live.id and held.erp_system = live.erp_system
    where live.id is null or held.payment_application_id is null
    union
    -- ... whose invoice is no longer live (deleted since: an index lookup by id each)
    select held.payment_application_id
    from held
    where held.erp_system = 'dynamics'
      and not exists (select 1 from {{ ref('stg_dynamics__invoices') }} as invoices
                      where invoices.erp_invoice_id = held.erp_invoice_id)
    union
    select payments.erp_payment_id
    from {{ ref('stg_dynamics__payment_journal_lines') }} as payments
    join dynamics_invoices_landed as invoices
        on invoices.legal_entity_code = payments.legal_entity_code
       and invoices.invoice_number = payments.marked_invoice_number
    where exists (select 1 from dynamics_invoices_landed)

),

applications as (

    select payment_application_id, erp_invoice_id, erp_payment_id, application_type, amount_applied, applied_date,
           erp_system
    from {{ ref('int_erp_payment_applications') }}
    where payment_application_id = any(array(select payment_application_id from reapplied))

)

select * from applications
union all
select payment_application_id, null, null, null, null, null, 'gone'
from reapplied
where not exists (select 1 from applications where applications.payment_application_id = reapplied.payment_application_id)
{% else %}
select
    payment_application_id,
    erp_invoice_id,
    erp_payment_id,
    application_type,
    amount_applied,
    applied_date,
    erp_system
from {{ ref('int_erp_payment_applications') }}
{% endif %}
