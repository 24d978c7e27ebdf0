-- One row per ERP posting period (months only: quarter, year and adjustment periods left out).
select
    erp_accounting_period_id,
    period_name,
    start_date,
    end_date,
    coalesce(is_closed, false)                                  as is_closed,
    closed_on_date,
    updated_at
from {{ ref('stg_netsuite__accounting_periods') }}
where not coalesce(is_quarter, false) and not coalesce(is_year, false) and not coalesce(is_adjustment, false)
