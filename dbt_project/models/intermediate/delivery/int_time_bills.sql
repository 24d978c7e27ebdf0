-- One row per live ERP time bill of every ERP (the ERP role int_erp_time_transactions: NetSuite time bills, Dynamics
-- 365 Finance hour journal lines; erp_system, erp_company say where), typed: a table copy, so that the models that look
-- time bills up by person and day, invoice or project read indexed columns instead of parsing every bill's jsonb (by
-- project: int_time_bill_matches reads the bills of the ERP projects whose engagement changed, a few among 750k at
-- medium scale; 3.5 s a build as a scan).
--
-- Incremental (delete+insert by time bill id): a build copies the bills of loads above the last successful build's
-- load watermark (landed since, or still running then); deleted bills are removed (post-hook). A row depends on its
-- raw record only, so a full refresh gives the same rows.
-- depends_on: {{ ref('stg_netsuite__deleted_time_bills') }}
-- depends_on: {{ ref('stg_dynamics__deleted_hour_journal_lines') }}
{{ config(
    materialized='incremental',
    unique_key='erp_time_bill_id',
    incremental_strategy='delete+insert',
    on_schema_change='sync_all_columns',
    indexes=[{'columns': ['erp_time_bill_id'], 'unique': True}, {'columns': ['erp_employee_id', 'work_date']},
             {'columns': ['erp_project_id']}, {'columns': ['load_id']}, {'columns': ['_load_watermark']}],
    post_hook="delete from {{ this }} where erp_time_bill_id in (select erp_time_bill_id from {{ ref('stg_netsuite__deleted_time_bills') }} where {{ landed_since_last_build() }} union all select erp_hour_line_id from {{ ref('stg_dynamics__deleted_hour_journal_lines') }} where {{ landed_since_last_build() }})"
) }}

select
    time_bills.erp_time_id                                      as erp_time_bill_id,
    time_bills.erp_system,
    time_bills.erp_company,
    time_bills.external_id,
    time_bills.erp_employee_id,
    time_bills.erp_project_id,
    time_bills.erp_item_id,
    time_bills.erp_invoice_id,
    time_bills.load_id,
    time_bills.memo,
    time_bills.hours,
    time_bills.bill_rate,
    time_bills.currency_code,
    time_bills.is_billable,
    time_bills.is_billed,
    time_bills.work_date,
    time_bills.created_at,
    time_bills.updated_at,
    time_bills.landed_at,
    {{ load_watermark() }}                                      as _load_watermark
from {{ ref('int_erp_time_transactions') }} as time_bills
{% if is_incremental() %}
where time_bills.load_id > {{ last_good_build_watermark() }}
{% endif %}
