-- One row per ERP time bill (of any ERP: int_time_bills), with the PSA time entry it posted, if known.
--   external_id  the time bill's externalid is the PSA time entry id (every time bill the hub posts)
--   rule         time posted before the hub (no external id): same person, same engagement, same day and
--                same hours; several equal entries pair off one to one in id order
--   rule_without_project  a time bill that lost its project: same person, day and hours, among entries still
--                unmatched (so that the entry is not reported as never having reached the ERP)
--
-- Incremental (delete+insert by time bill id): matching never looks beyond one person's day, so a build recomputes
-- the (employee, day) groups the change set (int_time_changes) reaches: the day of a time bill or time entry landed
-- or deleted, now and as matched here; every day of a person whose PSA user or ERP employee landed; the days of the
-- time bills and time entries of a project whose engagement changed. A time bill that pairs by its external id and
-- changes no other row (time_bill_changes: the hub's own time bills coming back) is recomputed alone, not its day. The
-- time entries of the days recomputed are read by id: those int_time_entries held for those days at its last build (it
-- holds every entry with its person and day then; read through adapter.get_relation, as dbt cannot be told: it reads
-- this model and is built after it) and those landed since. So a full refresh gives the same rows.
-- depends_on: {{ ref('int_time_changes') }}
{{ config(
    materialized='incremental',
    unique_key='erp_time_bill_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['erp_time_bill_id'], 'unique': True}, {'columns': ['psa_time_entry_id'], 'unique': True},
             {'columns': ['erp_project_id', 'engagement_id']}, {'columns': ['_load_watermark']}],
    post_hook="delete from {{ this }} where erp_time_bill_id in (select erp_time_bill_id from {{ ref('stg_netsuite__deleted_time_bills') }} where {{ landed_since_last_build() }} union all select erp_hour_line_id from {{ ref('stg_dynamics__deleted_hour_journal_lines') }} where {{ landed_since_last_build() }})"
) }}

with all_time_bills as not materialized (

    -- inlined into each reader (read twice, PostgreSQL would otherwise compute it whole, every bill, and filter that):
    -- each reads its bills through an index of int_time_bills
    select
        time_bills.*,
        project_keys.engagement_id
    from {{ ref('int_time_bills') }} as time_bills
    left join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system = time_bills.erp_system and project_keys.project_id = time_bills.erp_project_id

),

entries_of_people as (

    select
        entries.psa_time_entry_id,
        entries.psa_user_id,
        resources.erp_employee_id,
        project_keys.engagement_id,
        entries.work_date,
        round(entries.minutes / 60.0, 2)                        as hours,
        entries.load_id
    from {{ ref('int_psa_time_entries') }} as entries
    join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = entries.psa_project_id
    join {{ ref('int_resources_matched') }} as resources on resources.psa_user_id = entries.psa_user_id

),

{% if is_incremental() %}
changes as (

    select * from {{ ref('int_time_changes') }}

),

time_bill_changes as materialized (

    -- each time bill landed or deleted, and whether it is posted alone: it pairs by its external id and changes no
    -- other row. That is a time bill of its entry's, landed new or as it was here (paired by the same external id),
    -- whose entry no other time bill had here (each of the hub's own time bills coming back: tens of thousands after
    -- a first cycle). Matching by external id reads nothing of the day; the entry left the pool of time that pairs by
    -- rule, but it paired with nothing there, and the entries after it in the pool's order paired with nothing either
    -- (pair n of the entries meets bill n), so every other row of the day stays as it was. Its day is not recomputed:
    -- the bill is, alone (through the unique indexes of int_time_bills and of this table). A flag, not a set to
    -- anti-join: the planner cannot tell how many bills it holds (it took one, and compared each change with each
    -- such bill: 45 s for 22,055 of them)
    select
        changes.erp_time_bill_id,
        changes.erp_employee_id,
        changes.work_date,
        coalesce(time_bills.external_id is not null
            and not exists (
                select 1 from {{ this }} as previous
                where previous.erp_time_bill_id = time_bills.erp_time_bill_id
                  and (previous.match_method <> 'external_id'
                       or previous.psa_time_entry_id is distinct from time_bills.external_id))
            and not exists (
                select 1 from {{ this }} as previous
                where previous.psa_time_entry_id = time_bills.external_id
                  and previous.erp_time_bill_id <> time_bills.erp_time_bill_id), false) as is_posted_alone
    from changes
    left join {{ ref('int_time_bills') }} as time_bills using (erp_time_bill_id)
    where changes.change_kind = 'time_bill'

),

changed_groups as (

    -- time bills and time entries landed or deleted: their day now (as last landed, for a deleted entry), but for the
    -- bills posted alone
    select erp_employee_id, work_date from time_bill_changes where not is_posted_alone
    union
    select resources.erp_employee_id, changes.work_date
    from changes
    join {{ ref('int_resources_matched') }} as resources using (psa_user_id)
    where changes.change_kind = 'entry'
    union
    -- ... and the day they were matched on here
    select erp_employee_id, work_date from {{ this }}
    where erp_time_bill_id = any(array(select erp_time_bill_id from time_bill_changes where not is_posted_alone))
    union
    select erp_employee_id, work_date from {{ this }}
    where psa_time_entry_id = any(array(select psa_time_entry_id from changes where change_kind = 'entry'))
    union
    -- people: every day of their time bills (through int_time_bills' index by employee and day)
    select time_bills.erp_employee_id, time_bills.work_date
    from {{ ref('int_time_bills') }} as time_bills
    where time_bills.erp_employee_id = any(array(
        select erp_employee_id from changes where change_kind = 'person' and erp_employee_id is not null
        union all
        select resources.erp_employee_id from changes join {{ ref('int_resources_matched') }} as resources using (psa_user_id)
        where changes.change_kind = 'person'))
    union
    -- projects whose engagement key changed: the days of their time bills and of their time entries
    select erp_employee_id, work_date from {{ ref('int_time_bills') }}
    where erp_project_id = any(array(select erp_project_id from changes where change_kind = 'erp_project'))
    union
    {% set time_entries_built = adapter.get_relation(this.database, this.schema, 'int_time_entries') -%}
    {% if time_entries_built -%}
    -- ... through int_time_entries as its last build left it (its index by project): it holds every entry as of then
    -- with its project (a project unknown then too), and an entry landed since is named above with its day. This model
    -- cannot ref it (int_time_entries reads this one, and is built after it). Every entry's project parsed instead
    -- took 6-10 s of a medium firm's build at load 10-15, for the projects the hub creates, which have no time
    select resources.erp_employee_id, entries.work_date
    from {{ time_entries_built }} as entries
    join {{ ref('int_resources_matched') }} as resources using (psa_user_id)
    where entries.psa_project_id = any(array(
        select psa_project_id from changes where changed_input = 'int_project_keys' and psa_project_id is not null))
    {%- else -%}
    select resources.erp_employee_id, entries.work_date
    from {{ ref('int_psa_time_entries') }} as entries
    join {{ ref('int_resources_matched') }} as resources using (psa_user_id)
    where exists (select 1 from changes where changed_input = 'int_project_keys' and psa_project_id is not null)
      and entries.psa_project_id in (select psa_project_id from changes where changed_input = 'int_project_keys')
    {%- endif %}

),

changed_user_days as (

    select distinct resources.psa_user_id, resources.erp_employee_id, changed_groups.work_date
    from changed_groups
    join {{ ref('int_resources_matched') }} as resources using (erp_employee_id)

),

time_bills as (

    -- whole (person, day) groups, through the index of int_time_bills; and the bills posted alone outside them
    select * from all_time_bills
    where (erp_employee_id, work_date) in (select erp_employee_id, work_date from changed_groups)
    union all
    select * from all_time_bills
    where all_time_bills.erp_time_bill_id = any(array(select erp_time_bill_id from time_bill_changes where is_posted_alone))
      and not exists (select 1 from changed_groups
                      where changed_groups.erp_employee_id = all_time_bills.erp_employee_id
                        and changed_groups.work_date = all_time_bills.work_date)

),

entries as (

    -- the entries of those days, read by id (the primary key of the raw table), never found by parsing every entry's
    -- person and day: those int_time_entries holds for the days (as its last build left it: a lookup of its index by
    -- person and week for each day), and those landed since (the change set names each with its day now). The person's
    -- ERP employee comes with the day (a hash join: the planner cannot tell how many entries the ids name, and took
    -- them for one, comparing each with every person)
    {%- if time_entries_built %}
    select
        entries.psa_time_entry_id,
        entries.psa_user_id,
        days.erp_employee_id,
        project_keys.engagement_id,
        entries.work_date,
        round(entries.minutes / 60.0, 2)                        as hours,
        entries.load_id
    from {{ ref('int_psa_time_entries') }} as entries
    join {{ ref('int_project_keys') }} as project_keys
        on project_keys.source_system in {{ psa_systems() }} and project_keys.project_id = entries.psa_project_id
    join changed_user_days as days on days.psa_user_id = entries.psa_user_id and days.work_date = entries.work_date
    where entries.psa_time_entry_id = any(array(
        select held.psa_time_entry_id
        from changed_user_days as days
        cross join lateral (
            select held.psa_time_entry_id from {{ time_entries_built }} as held
            where held.psa_user_id = days.psa_user_id and held.work_week = date_trunc('week', days.work_date)::date
              and held.work_date = days.work_date
            offset 0  -- kept a lookup
        ) as held
        union all
        select psa_time_entry_id from changes where change_kind = 'entry'))
    {%- else %}
    select entries_of_people.*
    from entries_of_people
    where (psa_user_id, work_date) in (select psa_user_id, work_date from changed_user_days)
    {%- endif %}

),
{% else %}
time_bills as (

    select * from all_time_bills

),

entries as (

    select * from entries_of_people

),
{% endif %}

by_external_id as (

    select time_bills.erp_time_bill_id, time_bills.external_id as psa_time_entry_id, 'external_id' as match_method
    from time_bills
    where time_bills.external_id is not null

),

legacy_bills as (

    select
        *,
        row_number() over (partition by erp_employee_id, engagement_id, work_date, round(hours, 2) order by erp_time_bill_id) as pair_number
    from time_bills
    where external_id is null and engagement_id is not null

),

legacy_entries as (

    -- anti-joins, never `not in (subquery)`: that is a row-by-row scan once the set outgrows work_mem
    -- (one incremental build ran over 17 minutes when 24k time bills landed at once)
    select
        *,
        row_number() over (partition by erp_employee_id, engagement_id, work_date, hours order by psa_time_entry_id) as pair_number
    from entries
    where engagement_id is not null
      and not exists (select 1 from by_external_id where by_external_id.psa_time_entry_id = entries.psa_time_entry_id)

),

legacy_pairs as (

    -- each legacy entry with the legacy bill it pairs with, if any (pair numbers make it one to one)
    select legacy_entries.*, legacy_bills.erp_time_bill_id as paired_time_bill_id
    from legacy_entries
    left join legacy_bills
        on legacy_bills.erp_employee_id = legacy_entries.erp_employee_id
        and legacy_bills.engagement_id = legacy_entries.engagement_id
        and legacy_bills.work_date = legacy_entries.work_date
        and round(legacy_bills.hours, 2) = legacy_entries.hours
        and legacy_bills.pair_number = legacy_entries.pair_number

),

by_rule as (

    select paired_time_bill_id as erp_time_bill_id, psa_time_entry_id, 'rule' as match_method
    from legacy_pairs
    where paired_time_bill_id is not null

),

orphan_bills as (

    select
        *,
        row_number() over (partition by erp_employee_id, work_date, round(hours, 2) order by erp_time_bill_id) as pair_number
    from time_bills
    where external_id is null and engagement_id is null

),

unmatched_entries as (

    select
        *,
        row_number() over (partition by erp_employee_id, work_date, hours order by psa_time_entry_id) as orphan_pair_number
    from legacy_pairs
    where paired_time_bill_id is null

),

by_rule_without_project as (

    select orphan_bills.erp_time_bill_id, unmatched_entries.psa_time_entry_id, 'rule_without_project' as match_method
    from orphan_bills
    join unmatched_entries
        on unmatched_entries.erp_employee_id = orphan_bills.erp_employee_id
        and unmatched_entries.work_date = orphan_bills.work_date
        and unmatched_entries.hours = round(orphan_bills.hours, 2)
        and unmatched_entries.orphan_pair_number = orphan_bills.pair_number

),

matched as (

    select * from by_external_id
    union all
    select * from by_rule
    union all
    select * from by_rule_without_project

)

select
    time_bills.erp_time_bill_id,
    time_bills.erp_system,
    time_bills.erp_company,
    time_bills.erp_project_id,
    time_bills.engagement_id,
    time_bills.erp_employee_id,
    time_bills.work_date,
    time_bills.hours,
    time_bills.bill_rate,
    time_bills.is_billed,
    time_bills.erp_invoice_id,
    matched.psa_time_entry_id,
    coalesce(matched.match_method, 'unmatched')                 as match_method,
    time_bills.created_at,
    time_bills.updated_at,
    {{ load_watermark() }}                                      as _load_watermark
from time_bills
left join matched using (erp_time_bill_id)
