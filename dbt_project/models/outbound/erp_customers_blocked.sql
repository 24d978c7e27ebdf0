-- Rows of sync erp_customers that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_customers.
select
    external_id,
    "companyName",
    subsidiary,
    currency,
    terms,
    _erp_customer_id,
    _match_method,
    _legal_entity,
    _customer,
    block_reason_code
from {{ ref('int_sync_erp_customers') }}
where block_reason_code is not null and erp_system = 'netsuite'
