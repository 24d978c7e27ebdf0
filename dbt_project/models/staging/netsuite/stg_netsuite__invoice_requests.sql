with source as (

    select * from {{ source('netsuite', 'customrecord_pshub_invoice_request') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_invoice_request_id,
        {{ json_id('externalid') }}                                as external_id,
        {{ json_id('custrecord_pshub_ir_project') }}               as erp_project_id,
        {{ json_id('custrecord_pshub_ir_currency') }}              as erp_currency_id,
        {{ json_id('custrecord_pshub_ir_invoice') }}               as erp_invoice_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('name') }}                                    as request_name,
        {{ json_text('custrecord_pshub_ir_milestone') }}           as milestone_reference,
        {{ json_text('custrecord_pshub_ir_status') }}              as request_status,

        -- numerics
        {{ json_numeric('custrecord_pshub_ir_amount', 2) }}        as amount,

        -- dates
        {{ json_date('custrecord_pshub_ir_date') }}                as request_date,

        -- timestamps
        {{ json_timestamp('created') }}                            as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
