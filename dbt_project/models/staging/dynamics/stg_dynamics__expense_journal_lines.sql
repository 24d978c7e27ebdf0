with source as (

    select * from {{ source('dynamics', 'expensejournallines') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_expense_line_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        {{ json_text('JournalBatchNumber') }}                      as journal_number,
        {{ json_integer('LineNumber') }}                           as line_number,
        {{ json_text('ProjId') }}                                  as project_code,
        {{ json_text('ResourceId') }}                              as worker_number,
        {{ json_integer('PshInvoiceIdentifier') }}                 as invoice_identifier,
        {{ json_text('PshExternalId') }}                           as external_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('ProjectCategory') }}                         as category,
        {{ json_text('CurrencyCode') }}                            as currency_code,
        {{ json_text('ProjectLineProperty') }}                     as line_property,
        {{ json_text('Text') }}                                    as memo,

        -- numerics
        {{ json_numeric('DebitAmount', 2) }}                       as amount,

        -- booleans
        {{ json_text('ProjectLineProperty') }} = 'Chargeable'      as is_billable,
        {{ json_integer('PshInvoiceIdentifier') }} is not null     as is_billed,

        -- dates
        nullif({{ json_date('ProjectDate') }}, date '1900-01-01')  as expense_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
