-- One row per live ERP time bill, typed: a table copy of stg_netsuite__time_bills, so that the models that look
-- time bills up by person and day, invoice or project read indexed columns instead of parsing every bill's jsonb.
--
-- Incremental (delete+insert by time bill id): a build copies the bills of loads above the last successful build's
-- load watermark (landed since, or still running then); deleted bills are removed (post-hook). A row depends on its
-- raw record only, so a full refresh gives the same rows.
-- depends_on: {{ ref('stg_netsuite__deleted_time_bills') }}
{{ config(
    materialized='incremental',
    unique_key='erp_time_bill_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['erp_time_bill_id'], 'unique': True}, {'columns': ['erp_employee_id', 'work_date']},
             {'columns': ['load_id']}, {'columns': ['_load_watermark']}],
    post_hook="delete from {{ this }} where erp_time_bill_id in (select erp_time_bill_id from {{ ref('stg_netsuite__deleted_time_bills') }} where {{ landed_since_last_build() }})"
) }}

select
    time_bills.*,
    {{ load_watermark() }}                                      as _load_watermark
from {{ ref('stg_netsuite__time_bills') }} as time_bills
{% if is_incremental() %}
where time_bills.load_id > {{ last_good_build_watermark() }}
{% endif %}
