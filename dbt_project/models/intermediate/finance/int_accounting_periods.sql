-- One row per posting period of each ERP and company (the ERP role int_erp_periods, months only): NetSuite's one
-- calendar for every subsidiary (erp_company null), each Dynamics 365 Finance company's own. A record's period checks
-- use the periods of the ERP and company it posts to (macro posting_period_join).
select
    erp_system,
    erp_company,
    erp_period_id                                               as erp_accounting_period_id,
    period_name,
    start_date,
    end_date,
    is_closed,
    closed_on_date,
    updated_at
from {{ ref('int_erp_periods') }}
