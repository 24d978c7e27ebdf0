-- Certinia time, one row per day: each timecard split (pse__Timecard__c, the part of a weekly timecard inside one
-- time period, carrying pse__Monday_Hours__c ... pse__Sunday_Hours__c and the day notes) expanded into its days. A day
-- is an entry when it has hours or a note (a day logged at zero with a note is kept, as an entry of zero hours). Its id
-- is the split's id and the day: `<split id>:YYYY-MM-DD`. Approval, billing flag and rates are the split's.
with in_split as (

    {{ certinia_split_days() }}

),

renamed as (

    select
        -- ids
        id || ':' || to_char(work_date, 'YYYY-MM-DD')              as psa_time_entry_id,
        id                                                         as psa_timecard_split_id,
        {{ json_id('pse__Timecard_Header__c') }}                    as psa_timecard_id,
        {{ json_id('pse__Project__c') }}                            as psa_project_id,
        {{ json_id('pse__Milestone__c') }}                          as psa_story_id,
        {{ json_id('pse__Resource__c') }}                           as psa_user_id,
        {{ json_id('pse__Assignment__c') }}                         as psa_project_resource_id,
        null::text                                                 as psa_invoice_id,
        _load_id                                                   as load_id,

        -- strings
        day_notes                                                  as notes,
        {{ json_text('CurrencyIsoCode') }}                          as currency_code,
        {{ json_text('pse__Status__c') }}                           as timecard_status,

        -- numerics
        round(day_hours * 60)::integer                             as minutes,
        {{ json_numeric('pse__Bill_Rate__c', 2) }}                     as bill_rate,
        {{ json_numeric('pse__Cost_Rate_Amount__c', 2) }}              as cost_rate,

        -- booleans
        {{ json_bool('pse__Billable__c') }}                         as is_billable,
        {{ json_bool('pse__Approved__c') }}                         as is_approved,
        {{ json_bool('pse__Billed__c') }}                           as is_invoiced,

        -- dates
        work_date,

        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from in_split
    where not is_deleted
      and (coalesce(day_hours, 0) <> 0 or day_notes is not null)

)

select * from renamed
