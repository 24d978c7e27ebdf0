-- One row per legal entity and ERP period (seed erp_routing): the ERP and company the entity posts to from posts_from
-- (null: from the start) until the next period's posts_from (null: open). A record of the entity dated D goes to the
-- period holding D; is_current marks the period holding the as-of date (where new master records go).
-- A table, not a view as the other roles: the syncs' candidates route every record through it, and a view over the seed
-- would be dropped with it when a full refresh reloads the seed (dbt drops a seed's table with cascade), together
-- with every sync view over it, while other nodes rebuild theirs (two cascades over the same views deadlock).
{{ config(materialized='table') }}
with routes as (

    select
        legal_entity,
        erp_system,
        erp_company,
        posts_from,
        lead(posts_from) over (partition by legal_entity order by posts_from nulls first) as posts_until
    from {{ erp_routing() }} as routing

)

select
    routes.*,
    (routes.posts_from is null or routes.posts_from <= as_of.as_of_date)
        and (routes.posts_until is null or as_of.as_of_date < routes.posts_until) as is_current
from routes
cross join {{ ref('int_as_of_date') }} as as_of
