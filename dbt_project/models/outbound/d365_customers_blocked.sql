-- Rows of sync d365_customers that must not be pushed, each with its reason code, for the engine's exception queue.
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
    _customer,
    block_reason_code
from {{ ref('int_sync_d365_customers') }}
where block_reason_code is not null
