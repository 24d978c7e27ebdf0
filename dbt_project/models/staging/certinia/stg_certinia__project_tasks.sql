-- Certinia project tasks (pse__Project_Task__c): the work breakdown of a project, as the PSA role's tasks.
with source as (

    select * from {{ source('certinia', 'pse__project_task__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_story_id,
        {{ json_id('pse__Project__c') }}                           as psa_project_id,
        {{ json_id('pse__Parent_Task__c') }}                       as psa_parent_story_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('Name') }}                                    as story_title,
        'task'                                                     as story_type,
        case when {{ json_bool('pse__Completed__c') }} then 'completed'
             when {{ json_bool('pse__Started__c') }} then 'started' else 'not started' end as state,
        -- numerics
        round({{ json_numeric('pse__Estimated_Hours__c') }} * 60)::integer as time_estimate_minutes,
        null::numeric                                              as budget_estimate_amount,
        case when {{ json_bool('pse__Completed__c') }} then 100 else 0 end as percentage_complete,
        -- booleans
        {{ json_bool('pse__Billable__c') }}                        as is_billable,
        false                                                      as is_fixed_fee,
        false                                                      as is_archived,
        -- dates
        {{ json_timestamp('pse__Start_Date_Time__c') }}::date      as start_date,
        {{ json_timestamp('pse__End_Date_Time__c') }}::date        as due_date,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
