-- CRM role: users of each CRM (Salesforce User, HubSpot owner), with the CRM's id; the marts and
-- syncs read this, never a CRM's staging model.
-- The role's columns, named once: Salesforce's staging model has them all; HubSpot's owners get theirs below.
{%- set columns = [
    'crm_user_id', 'load_id', 'username', 'user_name', 'first_name', 'last_name', 'email', 'title', 'currency_code',
    'is_active', 'created_at', 'updated_at', 'landed_at',
] %}

with hubspot_owners as (

    -- an owner signs in with its email, and has no title or currency of its own
    select
        owners.*,
        owners.email                                                as username,
        concat_ws(' ', owners.first_name, owners.last_name)         as user_name,
        null::text                                                  as title,
        null::text                                                  as currency_code
    from {{ ref('stg_hubspot__owners') }} as owners

)

select 'salesforce' as crm_system, {{ columns | join(', ') }}
from {{ ref('stg_salesforce__users') }}

union all

select 'hubspot' as crm_system, {{ columns | join(', ') }}
from hubspot_owners
