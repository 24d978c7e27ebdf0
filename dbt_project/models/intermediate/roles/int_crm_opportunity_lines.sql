-- CRM role: opportunity lines of each CRM (Salesforce OpportunityLineItem, HubSpot line item), with the CRM's id; the
-- marts and syncs read this, never a CRM's staging model.
-- The role's columns, named once: Salesforce's staging model has them all; HubSpot's line items get theirs below.
{%- set columns = [
    'crm_opportunity_line_item_id', 'crm_opportunity_id', 'load_id', 'line_item_name', 'role_name', 'currency_code',
    'quantity_hours', 'unit_price', 'total_price', 'created_at', 'updated_at', 'landed_at',
] %}

with hubspot_line_items as (

    -- the role is the line item's product
    select line_items.*, products.product_name as role_name
    from {{ ref('stg_hubspot__line_items') }} as line_items
    left join {{ ref('stg_hubspot__products') }} as products on products.crm_product_id = line_items.crm_product_id

)

select 'salesforce' as crm_system, {{ columns | join(', ') }}
from {{ ref('stg_salesforce__opportunity_line_items') }}

union all

select 'hubspot' as crm_system, {{ columns | join(', ') }}
from hubspot_line_items
