-- Sync erp_customers: the rows to push (see int_sync_erp_customers for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_customers_blocked.
{{ outbound_erp_customers() }}
