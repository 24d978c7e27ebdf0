-- CRM role: opportunity lines of each CRM (Salesforce OpportunityLineItem, HubSpot line item), with the CRM's id; the marts and
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

union all

select
    'hubspot'                           as crm_system,
    l.crm_opportunity_line_item_id,
    l.crm_opportunity_id,
    l.load_id,
    l.line_item_name,
    -- the role is the line item's product
    p.product_name                      as role_name,
    l.currency_code,
    l.quantity_hours,
    l.unit_price,
    l.total_price,
    l.created_at,
    l.updated_at,
    l.landed_at
from {{ ref('stg_hubspot__line_items') }} as l
left join {{ ref('stg_hubspot__products') }} as p on p.crm_product_id = l.crm_product_id
