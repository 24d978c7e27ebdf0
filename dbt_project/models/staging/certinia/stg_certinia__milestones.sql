-- Certinia milestones (pse__Milestone__c): billable or progress targets of a project, as the PSA role's milestones.
with source as (

    select * from {{ source('certinia', 'pse__milestone__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_story_id,
        {{ json_id('pse__Project__c') }}                           as psa_project_id,
        null::text                                                 as psa_parent_story_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('Name') }}                                    as story_title,
        'milestone'                                                as story_type,
        -- approved ("typically by a workflow driven by the Status field") is complete; open is under way
        case when {{ json_bool('pse__Approved__c') }} or {{ json_text('pse__Status__c') }} in ('Approved', 'Complete') then 'completed'
             when {{ json_text('pse__Status__c') }} in ('Open', 'In Progress') then 'started' else 'not started' end as state,
        -- numerics
        null::integer                                              as time_estimate_minutes,
        {{ json_numeric('pse__Milestone_Amount__c', 2) }}             as budget_estimate_amount,
        case when {{ json_bool('pse__Approved__c') }} or {{ json_text('pse__Status__c') }} in ('Approved', 'Complete') then 100 else 0 end as percentage_complete,
        -- booleans
        not coalesce({{ json_bool('pse__Exclude_from_Billing__c') }}, false) as is_billable,
        {{ json_numeric('pse__Milestone_Amount__c', 2) }} is not null as is_fixed_fee,
        false                                                      as is_archived,
        -- dates
        null::date                                                 as start_date,
        {{ json_date('pse__Target_Date__c') }}                     as due_date,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
