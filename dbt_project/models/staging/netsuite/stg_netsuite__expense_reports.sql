with source as (

    select * from {{ source('netsuite', 'expensereport') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_expense_report_id,
        {{ json_id('externalid') }}                                as external_id,
        {{ json_id('employee') }}                                  as erp_employee_id,
        {{ json_id('entity') }}                                    as erp_project_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        {{ json_id('currency') }}                                  as erp_currency_id,
        {{ json_id('invoice') }}                                   as erp_invoice_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('tranid') }}                                  as document_number,
        {{ json_text('category') }}                                as category,
        {{ json_text('memo') }}                                    as memo,

        -- numerics
        {{ json_numeric('amount', 2) }}                            as amount,

        -- booleans
        {{ json_bool('isbillable') }}                              as is_billable,
        {{ json_bool('billed') }}                                  as is_billed,

        -- dates
        {{ json_date('trandate') }}                                as expense_date,

        -- timestamps
        {{ json_timestamp('datecreated') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
