-- Certinia schedules (pse__Schedule__c): an assignment's dates and scheduled hours.
with source as (

    select * from {{ source('certinia', 'pse__schedule__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_schedule_id,
        _load_id                                                   as load_id,
        -- numerics
        {{ json_numeric('pse__Scheduled_Hours__c') }}              as scheduled_hours,
        -- booleans
        {{ json_bool('pse__Is_Blocking__c') }}                     as is_blocking,
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
