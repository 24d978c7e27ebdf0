with source as (

    select * from {{ source('netsuite', 'timebill') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_time_bill_id,
        {{ json_id('externalid') }}                                as external_id,
        {{ json_id('employee') }}                                  as erp_employee_id,
        {{ json_id('customer') }}                                  as erp_project_id,
        {{ json_id('item') }}                                      as erp_item_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        {{ json_id('invoice') }}                                   as erp_invoice_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('memo') }}                                    as memo,
        {{ json_text('approvalstatus') }}                          as approval_status,

        -- numerics
        {{ json_numeric('hours') }}                                as hours,
        {{ json_numeric('rate', 2) }}                              as bill_rate,

        -- booleans
        {{ json_bool('isbillable') }}                              as is_billable,
        {{ json_bool('billed') }}                                  as is_billed,

        -- dates
        {{ json_date('trandate') }}                                as work_date,

        -- timestamps
        {{ json_timestamp('datecreated') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
