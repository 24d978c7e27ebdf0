-- Sync erp_expenses: the rows to push (see int_sync_erp_expenses for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_expenses_blocked.
{{ outbound_erp_expenses() }}
