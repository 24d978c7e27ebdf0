-- ERP role: currencies, one row per currency of each ERP, with its id there.
select 'netsuite' as erp_system, erp_currency_id, currency_code
from {{ ref('stg_netsuite__currencies') }}

union all

select 'dynamics' as erp_system, erp_currency_id, currency_code
from {{ ref('stg_dynamics__currencies') }}
