-- one row per stage of each deal pipeline (the pipelines land whole, their stages as a JSON array)
with source as (

    select * from {{ source('hubspot', 'pipelines') }}

),

stages as (

    select
        source.id                                                  as crm_pipeline_id,
        source.data ->> 'label'                                    as pipeline_label,
        source._load_id,
        source._landed_at,
        source.source_updated_at,
        stage
    from source
    cross join lateral jsonb_array_elements(coalesce(source.data -> 'stages', '[]'::jsonb)) as stage
    where not source.is_deleted

),

renamed as (

    select
        -- ids
        crm_pipeline_id || '|' || (stage ->> 'id')                 as crm_pipeline_stage_id,
        crm_pipeline_id,
        stage ->> 'id'                                             as crm_stage_id,
        _load_id                                                   as load_id,

        -- strings
        pipeline_label,
        stage ->> 'label'                                          as stage_label,

        -- numerics
        (stage ->> 'displayOrder')::integer                        as display_order,
        -- metadata.probability: 0.0 to 1.0, as text
        (nullif(stage -> 'metadata' ->> 'probability', ''))::numeric as probability,

        -- booleans
        coalesce((stage -> 'metadata' ->> 'isClosed')::boolean, false) as is_closed,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from stages

)

select * from renamed
