-- CRM role: opportunity lines of each CRM (Salesforce OpportunityLineItem today), with the CRM's id; the marts and
-- syncs read this, never a CRM's staging model.
select
    'salesforce'                        as crm_system,
    crm_opportunity_line_item_id,
    crm_opportunity_id,
    load_id,
    line_item_name,
    role_name,
    currency_code,
    quantity_hours,
    unit_price,
    total_price,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_salesforce__opportunity_line_items') }}
