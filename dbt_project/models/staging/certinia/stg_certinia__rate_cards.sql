-- Certinia rate cards (pse__Rate_Card__c): one resource role's suggested bill rate in one currency.
with source as (

    select * from {{ source('certinia', 'pse__rate_card__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_rate_card_role_id,
        -- the firm's standard rate cards are per currency (no account, region, practice or group): a project's are those
        -- of its currency
        {{ json_text('CurrencyIsoCode') }}                         as psa_rate_card_id,
        {{ json_text('pse__Role__c') }}                            as psa_role_id,
        {{ json_id('pse__Account__c') }}                           as psa_account_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('Name') }}                                    as rate_card_name,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,
        -- numerics
        {{ json_numeric('pse__Suggested_Bill_Rate__c', 2) }}          as bill_rate,
        {{ json_numeric('pse__Average_Cost_Rate__c', 2) }}            as cost_rate,
        -- dates
        {{ json_date('pse__Start_Date__c') }}                      as start_date,
        {{ json_date('pse__End_Date__c') }}                        as end_date,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
