with source as (

    select * from {{ source('dynamics', 'journaltrans') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_hour_line_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        {{ json_text('JournalId') }}                               as journal_number,
        {{ json_integer('LineNumber') }}                           as line_number,
        {{ json_text('ProjectID') }}                               as project_code,
        {{ json_text('ResourceId') }}                              as worker_number,
        {{ json_integer('PshInvoiceIdentifier') }}                 as invoice_identifier,
        {{ json_text('PshExternalId') }}                           as external_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Category') }}                                as category,
        {{ json_text('CurrencyId') }}                              as currency_code,
        {{ json_text('LineProperty') }}                            as line_property,
        {{ json_text('Description') }}                             as memo,

        -- numerics
        {{ json_numeric('Hours') }}                                as hours,
        {{ json_numeric('SalesPrice', 2) }}                        as bill_rate,

        -- booleans
        {{ json_text('LineProperty') }} = 'Chargeable'             as is_billable,
        {{ json_integer('PshInvoiceIdentifier') }} is not null     as is_billed,

        -- dates
        nullif({{ json_date('ProjectDate') }}, date '1900-01-01')  as work_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
