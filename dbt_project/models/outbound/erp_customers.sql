-- Sync erp_customers: the rows to push (see int_sync_erp_customers for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_customers_blocked.
select
    external_id,
    "companyName",
    subsidiary,
    currency,
    terms,
    _erp_customer_id,
    _match_method,
    _legal_entity,
    _customer
from {{ ref('int_sync_erp_customers') }}
where block_reason_code is null and erp_system = 'netsuite'
