with source as (

    select * from {{ source('dynamics', 'legalentities') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_legal_entity_id,
        {{ json_text('LegalEntityId') }}                           as legal_entity_code,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Name') }}                                    as legal_entity_name,
        {{ json_text('AddressCountryRegionId') }}                  as country_code,
        {{ json_text('AccountingCurrency') }}                      as accounting_currency,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
