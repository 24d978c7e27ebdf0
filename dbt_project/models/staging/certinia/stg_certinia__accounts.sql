-- The accounts of the org Certinia runs in (Account): what a project's pse__Account__c names, its client.
with source as (

    select * from {{ source('certinia', 'account') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_account_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('Name') }}                                    as account_name,

        -- timestamps
        {{ json_timestamp('CreatedDate') }}                        as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
