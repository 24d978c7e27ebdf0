-- One row per engagement and ERP company its project must exist in: the ERP its legal entity posts to now (current
-- route of int_erp_routes), and every ERP a dated record of it (time entry, expense, invoice request) is routed to by
-- the syncs (int_sync_erp_record_routes, which reads no AR: a broken AR model does not hold back customers and
-- projects), so that a record posted before a cut-over, or dated after it, finds its project in the ERP it goes to.
-- NetSuite: the engagement's subsidiary (one record per engagement). A table, built once per transform: the syncs'
-- plans read it instead of routing every time entry again.
-- While every entity posts to NetSuite, with no cut-over date, every record goes to the current route: the dated
-- records are not read then (a one-time filter), so this costs nothing on a single-ERP hub.
{{ config(materialized='table') }}

with engagements as (

    select * from {{ ref('int_engagement_facts') }}

),

several_routes as (

    select 1 from {{ ref('int_erp_routes') }} where erp_system <> 'netsuite' or posts_from is not null

),

current_routes as (

    select
        engagements.engagement_id,
        {{ erp_route_columns('route', 'legal_entities.erp_subsidiary_id') }}
    from engagements
    left join {{ ref('legal_entities') }} as legal_entities on legal_entities.legal_entity = engagements.legal_entity
    {{ erp_route_join('route', 'engagements.legal_entity') }}

),

dated_routes as (

    select distinct engagement_id, erp_system, erp_company from {{ ref('int_sync_erp_record_routes') }}
    where engagement_id is not null and exists (select 1 from several_routes)

),

routes as (

    select engagement_id, erp_system, erp_company, true as is_current_route from current_routes
    union all
    select engagement_id, erp_system, erp_company, false from dated_routes

)

select
    routes.engagement_id,
    engagements.crm_account_id,
    routes.erp_system,
    routes.erp_company,
    bool_or(routes.is_current_route)                            as is_current_route
from routes
join engagements using (engagement_id)
group by 1, 2, 3, 4
