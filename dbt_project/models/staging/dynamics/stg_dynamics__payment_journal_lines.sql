with source as (

    select * from {{ source('dynamics', 'customerpaymentjournallines') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_payment_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        {{ json_text('JournalBatchNumber') }}                      as journal_batch_number,
        {{ json_integer('LineNumber') }}                           as line_number,
        {{ json_text('AccountDisplayValue') }}                     as customer_account,
        {{ json_text('MarkedInvoice') }}                           as marked_invoice_number,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('CurrencyCode') }}                            as currency_code,
        {{ json_text('PaymentReference') }}                        as payment_reference,
        {{ json_text('TransactionText') }}                         as memo,

        -- numerics
        {{ json_numeric('CreditAmount', 2) }}                      as amount,

        -- dates
        nullif({{ json_date('TransactionDate') }}, date '1900-01-01') as payment_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
