-- One row per engagement = closed-won CRM opportunity, with its ERP project and PSA project.
-- For each system the strongest method with any candidate decides; exactly one candidate = matched (the
-- method is kept), several = 'several' (no project is chosen: never guessed), none = 'none'. A project that is the
-- one candidate of several engagements (two deals of the same name and dates) is not given to any of them either:
-- they count as 'several', so that no sync creates or updates a project for them until a person decides.
-- Each ERP keys its own projects: an engagement whose legal entity moved to another ERP mid-way has a project in each
-- (both keyed to it in int_project_keys); its erp_project_id is the one of the ERP its entity posts to on the as-of
-- date (int_erp_routes), else the one of the ERP that holds it.
with strongest as (

    select * from {{ ref('int_engagement_candidates_ranked') }}

),

per_system as (

    select
        crm_opportunity_id,
        source_system,
        count(*)                                                as candidate_count,
        min(project_id)                                         as first_candidate,
        min(match_method)                                       as match_method
    from strongest
    group by 1, 2

),

claimed as (

    select
        per_system.*,
        count(*) filter (where candidate_count = 1) over (partition by source_system, first_candidate) as claimants
    from per_system

),

decided as (

    select
        crm_opportunity_id,
        source_system,
        case when candidate_count = 1 and claimants > 1 then claimants else candidate_count end as candidate_count,
        first_candidate,
        match_method
    from claimed

),

opportunities as (

    select * from {{ ref('int_crm_opportunities') }} where is_won

),

erp as (

    select distinct on (decided.crm_opportunity_id) decided.*
    from decided
    join opportunities using (crm_opportunity_id)
    left join {{ ref('int_erp_routes') }} as routes
        on routes.legal_entity = opportunities.legal_entity and routes.is_current
    where decided.source_system not in {{ psa_systems() }}
    order by decided.crm_opportunity_id, (decided.source_system = routes.erp_system) desc nulls last,
             decided.source_system desc

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
left join erp on erp.crm_opportunity_id = opportunities.crm_opportunity_id
left join decided as psa on psa.crm_opportunity_id = opportunities.crm_opportunity_id and psa.source_system in {{ psa_systems() }}
