-- Certinia time days that are no entry (any more): every day of a deleted split, and the days of a live split with
-- neither hours nor a note (a day cleared on a timecard leaves no deletion of its own). The incremental time models
-- remove those landed since their last build; a day that never was an entry is simply not there to remove.
with source as (

    select * from {{ source('certinia', 'pse__timecard__c') }}

),

days as (

    -- each split with each day of its week (timecards run Monday to Sunday) that lies inside the split's dates: seven
    -- rows per split at most, no loop; the day's hours and notes from that weekday's fields
    select
        source.*,
        {{ json_date('pse__Start_Date__c') }} + day_number - (extract(isodow from {{ json_date('pse__Start_Date__c') }})::integer - 1)
                                                                   as work_date,
        case day_number
                 when 0 then {{ json_numeric('pse__Monday_Hours__c') }}
                 when 1 then {{ json_numeric('pse__Tuesday_Hours__c') }}
                 when 2 then {{ json_numeric('pse__Wednesday_Hours__c') }}
                 when 3 then {{ json_numeric('pse__Thursday_Hours__c') }}
                 when 4 then {{ json_numeric('pse__Friday_Hours__c') }}
                 when 5 then {{ json_numeric('pse__Saturday_Hours__c') }}
                 when 6 then {{ json_numeric('pse__Sunday_Hours__c') }}
        end                                                        as day_hours,
        case day_number
                 when 0 then {{ json_text('pse__Monday_Notes__c') }}
                 when 1 then {{ json_text('pse__Tuesday_Notes__c') }}
                 when 2 then {{ json_text('pse__Wednesday_Notes__c') }}
                 when 3 then {{ json_text('pse__Thursday_Notes__c') }}
                 when 4 then {{ json_text('pse__Friday_Notes__c') }}
                 when 5 then {{ json_text('pse__Saturday_Notes__c') }}
                 when 6 then {{ json_text('pse__Sunday_Notes__c') }}
        end                                                        as day_notes
    from source
    cross join (values (0), (1), (2), (3), (4), (5), (6)) as week_days (day_number)

),

in_split as (

    select * from days
    where work_date between {{ json_date('pse__Start_Date__c') }} and {{ json_date('pse__End_Date__c') }}

),

renamed as (

    select
        -- ids
        id || ':' || to_char(work_date, 'YYYY-MM-DD')              as psa_time_entry_id,
        {{ json_id('pse__Project__c') }}                            as psa_project_id,
        {{ json_id('pse__Resource__c') }}                           as psa_user_id,

        -- dates (as last landed)
        work_date,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at,
        _load_id                                                   as load_id

    from in_split
    where is_deleted
       or (coalesce(day_hours, 0) = 0 and day_notes is null)

)

select * from renamed
