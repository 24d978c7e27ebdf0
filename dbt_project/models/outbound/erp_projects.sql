-- Sync erp_projects: the rows to push (see int_sync_erp_projects for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_projects_blocked.
{{ outbound_erp_projects() }}
