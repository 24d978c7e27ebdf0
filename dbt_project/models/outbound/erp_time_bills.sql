-- Sync erp_time_bills: the rows to push (see int_sync_erp_time_bills for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_time_bills_blocked.
{{ outbound_erp_time_bills() }}
