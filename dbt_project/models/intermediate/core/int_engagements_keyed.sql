-- One row per engagement = closed-won CRM opportunity, with its ERP project and PSA project.
-- For each system the strongest method with any candidate decides; exactly one candidate = matched (the
-- method is kept), several = 'several' (no project is chosen: never guessed), none = 'none'. A project that is the
-- one candidate of several engagements (two deals of the same name and dates) is not given to any of them either:
-- they count as 'several', so that no sync creates or updates a project for them until a person decides.
with strongest as (

    select * from {{ ref('int_engagement_candidates_ranked') }}

),

per_system as (

    select
        crm_opportunity_id,
        project_role,
        min(source_system)                                      as source_system,
        count(*)                                                as candidate_count,
        min(project_id)                                         as first_candidate,
        min(match_method)                                       as match_method
    from strongest
    group by 1, 2

),

claimed as (

    select
        per_system.*,
        count(*) filter (where candidate_count = 1) over (partition by project_role, first_candidate) as claimants
    from per_system

),

decided as (

    select
        crm_opportunity_id,
        project_role,
        source_system,
        case when candidate_count = 1 and claimants > 1 then claimants else candidate_count end as candidate_count,
        first_candidate,
        match_method
    from claimed

),

opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }} where is_won

)

select
    opportunities.crm_opportunity_id                            as engagement_id,
    opportunities.crm_opportunity_id,
    opportunities.crm_account_id,
    case when erp.candidate_count = 1 then erp.first_candidate end as erp_project_id,
    case
        when erp.candidate_count = 1 then erp.match_method
        when erp.candidate_count > 1 then 'several'
        else 'none'
    end                                                         as erp_match_method,
    coalesce(erp.candidate_count, 0)                            as erp_candidate_count,
    case when erp.candidate_count = 1 then erp.source_system end as erp_system,
    case when psa.candidate_count = 1 then psa.first_candidate end as psa_project_id,
    case
        when psa.candidate_count = 1 then psa.match_method
        when psa.candidate_count > 1 then 'several'
        else 'none'
    end                                                         as psa_match_method,
    coalesce(psa.candidate_count, 0)                            as psa_candidate_count
from opportunities
left join decided as erp on erp.crm_opportunity_id = opportunities.crm_opportunity_id and erp.project_role = 'erp'
left join decided as psa on psa.crm_opportunity_id = opportunities.crm_opportunity_id and psa.project_role = 'psa'
