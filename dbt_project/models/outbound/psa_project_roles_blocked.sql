-- Rows of sync psa_project_roles that must not be pushed, each with its reason code, for the engine's exception queue.
select * from {{ ref('int_sync_psa_project_roles') }}
where block_reason_code is not null
