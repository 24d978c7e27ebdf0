-- Sync d365_customers: the rows to push to Dynamics 365 Finance (see int_sync_d365_customers for the rules); rows that must not be pushed are in d365_customers_blocked.
select
    external_id,
    "dataAreaId",
    "CustomerAccount",
    "OrganizationName",
    "CustomerGroupId",
    "SalesCurrencyCode",
    "PaymentTerms",
    "PshCrmAccountId",
    _erp_customer_account,
    _match_method,
    _legal_entity,
    _customer
from {{ ref('int_sync_d365_customers') }}
where block_reason_code is null
