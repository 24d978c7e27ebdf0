-- Reconciliation: payments applied to invoices in the ERP (raw NetSuite transaction links from an invoice to a
-- customer payment; Dynamics 365 Finance customer payment journal lines marking a posted free text invoice), equal collected in marts.invoices, and the engagements' collected equals the
-- part applied to invoices of an engagement. Returns the differences.
with links as (

    select
        regexp_replace(links.data ->> 'previousdoc', '\.0+$', '')       as invoice_id,
        abs((nullif(btrim(links.data ->> 'foreignamount'), ''))::numeric) as amount
    from {{ source('netsuite', 'previoustransactionlink') }} as links
    join {{ source('netsuite', 'transaction') }} as payments
        on payments.id = regexp_replace(links.data ->> 'nextdoc', '\.0+$', '') and payments.data ->> 'type' = 'CustPymt'
        and not payments.is_deleted
    join {{ source('netsuite', 'transaction') }} as invoices
        on invoices.id = regexp_replace(links.data ->> 'previousdoc', '\.0+$', '') and invoices.data ->> 'type' = 'CustInvc'
        and not invoices.is_deleted
    where not links.is_deleted

),

dynamics_invoices as (

    select {{ json_text('dataAreaId') }} as company, {{ json_integer('InvoiceIdentifier') }} as invoice_identifier,
           {{ json_text('InvoiceNumber') }} as invoice_number
    from {{ source('dynamics', 'freetextinvoiceheaders') }}
    where not is_deleted and {{ json_text('IsPosted') }} = 'Yes'

),

dynamics_payments as (

    select {{ json_text('dataAreaId') }} as company, {{ json_text('MarkedInvoice') }} as invoice_number,
           abs({{ json_numeric('CreditAmount', 2) }}) as amount
    from {{ source('dynamics', 'customerpaymentjournallines') }}
    where not is_deleted

),

source_by_invoice as (

    select invoice_id, sum(amount) as amount from (
        select invoice_id, amount from links
        union all
        select dynamics_invoices.company || '|' || dynamics_invoices.invoice_identifier, dynamics_payments.amount
        from dynamics_payments
        join dynamics_invoices using (company, invoice_number)
    ) as both_erps
    group by 1

),

checks as (

    select 'all invoices' as scope,
           (select sum(amount) from source_by_invoice) as source_amount,
           (select sum(collected_amount) from {{ ref('invoices') }}) as mart_amount
    union all
    select 'invoices of engagements',
           (select sum(source_by_invoice.amount) from source_by_invoice
            join {{ ref('invoices') }} as invoices on invoices.erp_invoice_id = source_by_invoice.invoice_id
            where invoices.engagement_id is not null),
           (select sum(collected_amount) from {{ ref('engagements') }})

)

select * from checks where coalesce(source_amount, 0) <> coalesce(mart_amount, 0)
