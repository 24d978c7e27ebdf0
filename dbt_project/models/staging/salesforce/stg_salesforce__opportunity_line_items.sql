with source as (

    select * from {{ source('salesforce', 'opportunitylineitem') }}

),

renamed as (

    select
        -- ids
        id                                                         as crm_opportunity_line_item_id,
        nullif(data ->> 'OpportunityId', '')                       as crm_opportunity_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Name') }}                                    as line_item_name,
        {{ json_text('Role__c') }}                                 as role_name,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,

        -- numerics
        {{ json_numeric('Quantity') }}                             as quantity_hours,
        {{ json_numeric('UnitPrice', 2) }}                         as unit_price,
        {{ json_numeric('TotalPrice', 2) }}                        as total_price,

        -- timestamps
        {{ json_timestamp('CreatedDate') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
