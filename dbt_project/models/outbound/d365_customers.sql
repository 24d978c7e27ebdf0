-- Sync d365_customers: the rows to push to Dynamics 365 Finance (see int_sync_d365_customers for the rules); rows that must not be pushed are in d365_customers_blocked.
{{ outbound_d365_customers() }}
