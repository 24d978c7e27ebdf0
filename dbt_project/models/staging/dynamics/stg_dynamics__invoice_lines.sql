with source as (

    select * from {{ source('dynamics', 'freetextinvoicelines') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_invoice_line_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        {{ json_integer('InvoiceIdentifier') }}                    as invoice_identifier,
        {{ json_integer('LineNumber') }}                           as line_number,
        {{ json_text('PshProjectId') }}                            as project_code,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Description') }}                             as description,

        -- numerics
        {{ json_numeric('Quantity') }}                             as quantity,
        {{ json_numeric('UnitPrice', 2) }}                         as unit_price,
        {{ json_numeric('LineAmount', 2) }}                        as line_amount,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
