-- Candidates of sync crm_invoices: one row per ERP invoice or credit memo of a customer matched to a CRM account, as
-- an ERP_Invoice__c record of that account (external id = the ERP invoice id), in the invoice's currency. Amounts
-- are signed as in marts.invoices (credit memos negative).
-- Status: voided (the ERP voided it, or deleted it after the hub had pushed it: the record stays, with nothing open),
-- credited (a credit memo, or an invoice settled by credit memos alone), paid (nothing open), overdue (open past its
-- due date), partially paid (part of it settled), open.
with invoices as (

    select * from {{ ref('int_invoices_aged') }}

),

accounts as (

    -- every ERP customer of an account (one in each ERP its legal entity posted to: both ERPs' invoices)
    select erp_matches.crm_account_id, erp_matches.erp_customer_id, customers.customer_name
    from {{ ref('int_customer_erp_matches') }} as erp_matches
    join {{ ref('int_customers_matched') }} as customers using (customer_id)
    where erp_matches.crm_account_id is not null and erp_matches.erp_customer_id is not null

),

settlements as (

    select
        erp_invoice_id,
        sum(amount_applied) filter (where application_type = 'payment')            as paid_amount,
        sum(amount_applied) filter (where application_type = 'credit_memo')        as credited_amount
    from {{ ref('int_payment_applications') }}
    group by 1

),

live as (

    select
        invoices.erp_invoice_id,
        accounts.crm_account_id,
        engagements.crm_opportunity_id,
        invoices.document_number,
        invoices.invoice_type,
        invoices.invoice_date,
        invoices.due_date,
        invoices.amount,
        invoices.amount_open,
        invoices.currency_code,
        case
            when invoices.status_code = 'V' then 'voided'
            when invoices.invoice_type = 'credit_memo' then 'credited'
            when invoices.amount_open = 0 and coalesce(settlements.paid_amount, 0) = 0
                 and coalesce(settlements.credited_amount, 0) <> 0 then 'credited'
            when invoices.amount_open = 0 then 'paid'
            when invoices.is_overdue then 'overdue'
            when invoices.amount_open <> invoices.amount then 'partially paid'
            else 'open'
        end                                                                         as invoice_status,
        case when invoices.is_overdue then invoices.days_past_due else 0 end        as days_overdue,
        invoices.last_payment_date,
        invoices.collection_stage,
        accounts.customer_name,
        invoices.engagement_id,
        invoices.erp_system
    from invoices
    join accounts on accounts.erp_customer_id = invoices.erp_customer_id
    left join settlements on settlements.erp_invoice_id = invoices.erp_invoice_id
    left join {{ ref('engagements') }} as engagements on engagements.engagement_id = invoices.engagement_id

),

-- deleted in the ERP after the hub pushed them: only the ledger knows they are in the CRM
deleted as (

    select
        deleted.erp_transaction_id                                                  as erp_invoice_id,
        accounts.crm_account_id,
        null::text                                                                  as crm_opportunity_id,
        deleted.document_number,
        case deleted.transaction_type when 'CustCred' then 'credit_memo' else 'invoice' end as invoice_type,
        deleted.transaction_date                                                    as invoice_date,
        deleted.due_date,
        case when deleted.transaction_type = 'CustCred' then -abs(deleted.total_amount)
             else abs(deleted.total_amount) end                                     as amount,
        0::numeric                                                                  as amount_open,
        currencies.currency_code,
        'voided'                                                                    as invoice_status,
        0                                                                           as days_overdue,
        null::date                                                                  as last_payment_date,
        'none'                                                                      as collection_stage,
        accounts.customer_name,
        null::text                                                                  as engagement_id,
        'netsuite'                                                                  as erp_system
    from {{ ref('stg_netsuite__deleted_transactions') }} as deleted
    join {{ ref('stg_ops__sync_ledger') }} as ledger
        on ledger.sync_name = 'crm_invoices' and ledger.record_key = deleted.erp_transaction_id
    left join {{ ref('int_erp_projects') }} as jobs
        on jobs.erp_system = 'netsuite' and jobs.erp_project_id = deleted.erp_entity_id
    left join accounts on accounts.erp_customer_id = coalesce(jobs.erp_customer_id, deleted.erp_entity_id)
    left join {{ ref('stg_netsuite__currencies') }} as currencies on currencies.erp_currency_id = deleted.erp_currency_id
    where deleted.transaction_type in ('CustInvc', 'CustCred')
      and deleted.erp_transaction_id not in (select erp_invoice_id from invoices)

),

candidates as (

    select * from live
    union all
    select * from deleted

)

select
    erp_invoice_id                                                                  as "ERP_Invoice_Id__c",
    document_number                                                                 as "Name",
    crm_account_id                                                                  as "Account__c",
    crm_opportunity_id                                                              as "Opportunity__c",
    case invoice_type when 'credit_memo' then 'Credit Memo' else 'Invoice' end      as "Document_Type__c",
    invoice_date                                                                    as "Invoice_Date__c",
    due_date                                                                        as "Due_Date__c",
    amount                                                                          as "Amount__c",
    amount_open                                                                     as "Open_Balance__c",
    currency_code                                                                   as "CurrencyIsoCode",
    invoice_status                                                                  as "Status__c",
    days_overdue                                                                    as "Days_Overdue__c",
    last_payment_date                                                               as "Last_Payment_Date__c",
    collection_stage                                                                as "Collection_Stage__c",
    customer_name                                                                   as _customer,
    engagement_id                                                                   as _engagement,
    amount_open                                                                     as _amount_at_stake,
    currency_code                                                                   as _currency,
    erp_system                                                                      as _erp_system,  -- the ERP holding it
    case
        when crm_account_id is null then 'crm_account_unknown'
        when document_number is null then 'invoice_number_missing'
        when currency_code is null then 'invoice_currency_unknown'
    end                                                                             as block_reason_code
from candidates
