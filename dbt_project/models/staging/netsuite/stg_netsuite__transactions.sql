with source as (

    select * from {{ source('netsuite', 'transaction') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_transaction_id,
        {{ json_id('entity') }}                                    as erp_entity_id,
        {{ json_id('subsidiary') }}                                as erp_subsidiary_id,
        {{ json_id('currency') }}                                  as erp_currency_id,
        {{ json_id('postingperiod') }}                             as erp_accounting_period_id,
        {{ json_id('terms') }}                                     as erp_terms_id,
        {{ json_id('externalid') }}                                as external_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('tranid') }}                                  as document_number,
        {{ json_text('type') }}                                    as transaction_type,
        {{ json_text('status') }}                                  as status_code,
        {{ json_text('memo') }}                                    as memo,

        -- numerics
        {{ json_numeric('exchangerate') }}                         as exchange_rate,
        {{ json_numeric('foreigntotal', 2) }}                      as total_amount,
        {{ json_numeric('foreignamountpaid', 2) }}                 as amount_paid,
        {{ json_numeric('foreignamountunpaid', 2) }}               as amount_unpaid,

        -- dates
        {{ json_date('trandate') }}                                as transaction_date,
        {{ json_date('duedate') }}                                 as due_date,
        {{ json_date('closedate') }}                               as close_date,

        -- timestamps
        {{ json_timestamp('createddate') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
