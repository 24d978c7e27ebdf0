-- One row per (engagement, system, project) among each engagement's strongest project candidates in that system:
-- the strongest match method of each candidate project (then the nearest dates), and only the candidates of the
-- strongest rank. int_engagements_keyed (per engagement) and int_project_keys (per project) both decide from it.
with candidates as (

    select distinct on (crm_opportunity_id, source_system, project_id) *
    from {{ ref('int_engagement_key_candidates') }}
    order by crm_opportunity_id, source_system, project_id, strength, date_distance

),

ranked as (

    select *, rank() over (partition by crm_opportunity_id, source_system order by strength, date_distance) as strength_rank
    from candidates

)

select
    crm_opportunity_id,
    source_system,
    project_id,
    match_method,
    strength,
    date_distance,
    count(*) over (partition by crm_opportunity_id, source_system)  as engagement_candidates
from ranked
where strength_rank = 1
