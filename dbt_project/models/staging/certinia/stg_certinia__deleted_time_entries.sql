-- Certinia time days that are no entry (any more): every day of a deleted split, and the days of a live split with
-- neither hours nor a note (a day cleared on a timecard leaves no deletion of its own). The incremental time models
-- remove those landed since their last build; a day that never was an entry is simply not there to remove.
with in_split as (

    {{ certinia_split_days() }}

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
