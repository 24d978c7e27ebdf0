-- One row per dated record the ERP syncs consider (sync_name, record_id): the billable client time entries of
-- erp_time_bills, the billable expenses of erp_expenses, the completed milestones of erp_invoice_requests, with the
-- engagement and the ERP and company the record goes to: the one already holding it, else the one its engagement's
-- legal entity posts to on the record's date (int_erp_routes).
-- Which records, and where they go, is decided here and only here: the candidates of those syncs start from these
-- rows, and int_sync_erp_engagement_routes reads them to place each engagement's project (and customer) in every ERP
-- its records go to. Routing needs a record's entity and date, never its customer's receivables: this model reads no
-- AR, so that a broken AR model holds back the billing syncs and not the customers and projects syncs.
-- A table, brought up to date by each transform (it reads no ledger, so it is current after the build): every ERP sync's plan and
-- candidates read it, the Dynamics ones for the few records routed there (none on a NetSuite-only hub: an index
-- look-up), instead of routing each time entry again on every read (a full scan of the time entries, a second or more
-- each time, several times a cycle).
-- _load_watermark: when the record was last written, for the tests of a cycle (macros/test_where.sql,
-- __written_since_last_build__): a time entry's is the build of int_time_entries that wrote it, an expense's the load
-- that landed it (int_expenses is rebuilt whole, from the raw rows); a milestone has none (null: its sync's tests read
-- every row). The candidates of erp_time_bills and erp_expenses take it from here, so that a test's filter on it
-- selects this table's rows written since the last build, which it joins to their records by key.
--
-- Incremental (delete+insert by record): a build routes again only the records whose route can have changed since
-- the last successful build (macro last_good_build_watermark, the one watermark of the change set, int_time_changes):
--   time entries  those int_time_entries wrote since (it rewrites every entry the change set reaches, with all this
--                 model reads of an entry: billable, internal, engagement, date, where it is posted), those deleted
--                 since, and every entry of an engagement whose legal entity is not the one it was routed by
--                 (_legal_entity; int_engagement_facts has no watermark)
--   expenses, milestones  all of them, each build (a few thousand: int_expenses and int_psa_tasks are rebuilt whole)
-- A record routed again that is no longer a candidate (deleted, no longer billable, invoiced before the hub) gets one
-- row with erp_system 'gone', so that delete+insert drops its row, and the post-hook removes that one, in the same
-- transaction. The routes themselves (seeds legal_entities and erp_routing, PSHUB_ERP_ROUTING) are in the project's
-- fingerprint: a change makes the build a full refresh (flows/transform.py). A record with no date would follow the
-- as-of date (its route's is_current): such records are routed again each build too. So a full refresh and an
-- incremental build give the same rows (tested in tests/dbt).
-- depends_on: {{ ref('int_psa_deleted_time_entries') }}
{{ config(
    materialized='incremental',
    unique_key=['sync_name', 'record_id'],
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['sync_name', 'erp_system']}, {'columns': ['record_id']}],
    post_hook="delete from {{ this }} where sync_name in ('erp_time_bills', 'erp_expenses', 'erp_invoice_requests') and erp_system = 'gone'"
) }}

{% set since = last_good_build_watermark() %}

with facts as (

    select engagement_id, legal_entity, psa_project_id, billing_model from {{ ref('int_engagement_facts') }}

),
{% if is_incremental() %}

rerouted_entries as (

    -- through int_time_entries' index on _load_watermark: the entries written since
    select psa_time_entry_id as record_id from {{ ref('int_time_entries') }} where _load_watermark > {{ since }}
    union
    select psa_time_entry_id from {{ ref('int_psa_deleted_time_entries') }} where load_id > {{ since }}
    union
    -- one scan of this table's entries: those routed by a legal entity their engagement no longer has, or by the
    -- current route (no date)
    select held.record_id
    from {{ this }} as held
    left join facts using (engagement_id)
    where held.sync_name = 'erp_time_bills'
      and (held._legal_entity is distinct from facts.legal_entity or held._is_undated)

),
{% endif %}

time_entries as (

    select
        'erp_time_bills'                                        as sync_name,
        entries.psa_time_entry_id                               as record_id,
        entries.engagement_id,
        {{ erp_route_columns('route', 'legal_entities.erp_subsidiary_id',
                             held_system='entries.erp_posting_system', held_company='entries.erp_posting_company') }},
        entries._load_watermark                                 as _load_watermark,
        facts.legal_entity                                      as _legal_entity,
        entries.work_date is null                               as _is_undated
    from {{ ref('int_time_entries') }} as entries
    left join facts using (engagement_id)
    left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = facts.legal_entity
    {{ erp_route_join('route', 'facts.legal_entity', 'entries.work_date') }}
    where entries.is_billable and not entries.is_internal
      and coalesce(entries.erp_posting_match, '') not in ('rule', 'rule_without_project')
      {% if is_incremental() %}and entries.psa_time_entry_id in (select record_id from rerouted_entries){% endif %}

),

expenses as (

    select
        'erp_expenses',
        expenses.psa_expense_id,
        expenses.engagement_id,
        {{ erp_route_columns('route', 'legal_entities.erp_subsidiary_id',
                             held_system='expenses.erp_posting_system', held_company='expenses.erp_posting_company') }},
        expenses.load_id                                        as _load_watermark,
        facts.legal_entity,
        expenses.expense_date is null
    from {{ ref('int_expenses') }} as expenses
    left join facts using (engagement_id)
    left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = facts.legal_entity
    {{ erp_route_join('route', 'facts.legal_entity', 'expenses.expense_date') }}
    where expenses.is_billable and coalesce(expenses.erp_posting_match, '') <> 'rule'

),

legacy_invoiced as (

    -- milestones invoiced by hand before the hub name the story in the invoice memo
    select substring(memo from 'Milestone story ([A-Za-z0-9]+)') as psa_story_id
    from {{ ref('int_erp_invoices') }}
    where document_type = 'invoice' and memo like 'Milestone story %'

),

milestones as (

    -- the completed milestones of milestone-billed engagements not invoiced before the hub; NetSuite keeps an
    -- invoice request it already holds after its entity's cut-over
    select
        'erp_invoice_requests',
        milestones.psa_story_id,
        facts.engagement_id,
        {{ erp_route_columns('route', 'legal_entities.erp_subsidiary_id',
                             held_system="case when held.external_id is not null then 'netsuite' end") }},
        null::bigint,
        facts.legal_entity,
        false
    from {{ ref('int_psa_tasks') }} as milestones
    join facts on facts.psa_project_id = milestones.psa_project_id and facts.billing_model = 'milestone'
    left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = facts.legal_entity
    left join (
        select distinct external_id from {{ ref('stg_netsuite__invoice_requests') }} where external_id is not null
    ) as held on held.external_id = milestones.psa_story_id
    {{ erp_route_join('route', 'facts.legal_entity', 'coalesce(milestones.due_date, milestones.updated_at::date)') }}
    where milestones.story_type = 'milestone' and milestones.state = 'completed'
      and milestones.psa_story_id not in (select psa_story_id from legacy_invoiced where psa_story_id is not null)

),

routed as (

    select * from time_entries
    union all
    select * from expenses
    union all
    select * from milestones

)

select * from routed
{% if is_incremental() %}
union all
-- a record routed again that is no candidate now: one row, so that delete+insert drops its row (the post-hook, this one)
select held.sync_name, held.record_id, null, 'gone', null, null, null, false
from {{ this }} as held
where (held.sync_name <> 'erp_time_bills' or held.record_id in (select record_id from rerouted_entries))
  and not exists (select 1 from routed where routed.sync_name = held.sync_name and routed.record_id = held.record_id)
{% endif %}
