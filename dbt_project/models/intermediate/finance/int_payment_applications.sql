-- One row per payment (or credit memo) applied to an invoice, from the ERP role (every ERP's applications). Amounts
-- in the invoice's currency.
select
    payment_application_id,
    erp_invoice_id,
    erp_payment_id,
    application_type,
    amount_applied,
    applied_date,
    erp_system
from {{ ref('int_erp_payment_applications') }}
