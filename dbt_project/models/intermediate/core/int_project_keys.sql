-- One row per ERP project and per PSA project: the engagement it belongs to, if any.
-- A project that is the strongest candidate of exactly one engagement belongs to it even when that
-- engagement has several candidates (its time and invoices still count there); the key status says which. With the
-- engagement's ERP project: what a PSA project's time is posted to (project_keys_snapshot keeps their history).
with strongest as (

    select * from {{ ref('int_engagement_candidates_ranked') }}

),

per_project as (

    select
        source_system,
        project_id,
        count(distinct crm_opportunity_id)                      as engagements_claiming,
        min(crm_opportunity_id)                                 as engagement_id,
        min(match_method)                                       as match_method,
        max(engagement_candidates)                              as engagement_candidates
    from strongest
    group by 1, 2

),

projects as (

    select erp_system as source_system, erp_project_id as project_id, project_name, false as is_internal
    from {{ ref('int_erp_projects') }}
    union all
    select psa_system, psa_project_id, project_name, is_internal
    from {{ ref('int_psa_projects') }}

)

select
    projects.source_system,
    projects.project_id,
    projects.project_name,
    projects.is_internal,
    case when per_project.engagements_claiming = 1 then per_project.engagement_id end as engagement_id,
    case
        when projects.is_internal then 'internal'
        when per_project.engagements_claiming is null then 'none'
        when per_project.engagements_claiming > 1 then 'several_engagements'
        when per_project.engagement_candidates > 1 then 'several'
        else per_project.match_method
    end                                                         as key_status,
    engagements.erp_project_id                                  as engagement_erp_project_id
from projects
left join per_project using (source_system, project_id)
left join {{ ref('int_engagements_keyed') }} as engagements
    on engagements.engagement_id = case when per_project.engagements_claiming = 1 then per_project.engagement_id end
