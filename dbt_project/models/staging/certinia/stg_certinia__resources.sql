-- Certinia resources: Contacts with pse__Is_Resource__c (Certinia PSA Data Dictionary, Contact).
with source as (

    select * from {{ source('certinia', 'contact') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_user_id,
        {{ json_id('AccountId') }}                                 as psa_account_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('Name') }}                                    as user_name,
        {{ json_text('Email') }}                                   as email,
        {{ json_text('pse__Resource_Role__c') }}                   as headline,
        {{ json_text('pse__Resource_Role__c') }}                   as role_name,
        -- numerics
        {{ json_numeric('pse__Default_Cost_Rate__c', 2) }}            as default_cost_rate,
        -- booleans
        not coalesce({{ json_bool('pse__Is_Resource_Active__c') }}, false) as is_disabled,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted
      -- a resource is a Contact marked as one (the org's other contacts are customers' people)
      and coalesce({{ json_bool('pse__Is_Resource__c') }}, false)

)

select * from renamed
