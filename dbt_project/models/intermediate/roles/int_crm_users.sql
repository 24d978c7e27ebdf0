-- CRM role: users of each CRM (Salesforce User, HubSpot owner), with the CRM's id; the marts and
-- syncs read this, never a CRM's staging model.
select
    'salesforce'                        as crm_system,
    crm_user_id,
    load_id,
    username,
    user_name,
    first_name,
    last_name,
    email,
    title,
    currency_code,
    is_active,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_salesforce__users') }}

union all

select
    'hubspot'                           as crm_system,
    crm_user_id,
    load_id,
    email                               as username,
    concat_ws(' ', first_name, last_name) as user_name,
    first_name,
    last_name,
    email,
    null::text                          as title,
    null::text                          as currency_code,
    is_active,
    created_at,
    updated_at,
    landed_at
from {{ ref('stg_hubspot__owners') }}
