with source as (

    select * from {{ source('dynamics', 'freetextinvoiceheaders') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_invoice_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        {{ json_integer('InvoiceIdentifier') }}                    as invoice_identifier,
        {{ json_text('InvoiceNumber') }}                           as invoice_number,
        {{ json_text('CustomerAccount') }}                         as customer_account,
        {{ json_text('PshProjectId') }}                            as project_code,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('CurrencyCode') }}                            as currency_code,
        {{ json_text('InvoiceDescription') }}                      as memo,

        -- booleans
        {{ json_text('IsPosted') }} = 'Yes'                        as is_posted,

        -- dates
        nullif({{ json_date('InvoiceDate') }}, date '1900-01-01')  as invoice_date,
        nullif({{ json_date('DueDate') }}, date '1900-01-01')      as due_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
