{% macro certinia_split_days() %}
    {#- Certinia timecard splits (pse__Timecard__c), each with each day of its week (timecards run Monday to Sunday)
        that lies inside the split's dates: seven rows per split at most, no loop; the day's hours and notes from that
        weekday's fields (day_hours, day_notes, work_date). Read by stg_certinia__time_entries and
        stg_certinia__deleted_time_entries, which keep the days that are an entry and those that are none. -#}
    select * from (
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
        from {{ source('certinia', 'pse__timecard__c') }} as source
        cross join (values (0), (1), (2), (3), (4), (5), (6)) as week_days (day_number)
    ) as days
    where work_date between {{ json_date('pse__Start_Date__c') }} and {{ json_date('pse__End_Date__c') }}
{% endmacro %}
