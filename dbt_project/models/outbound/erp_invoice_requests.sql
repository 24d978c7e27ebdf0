-- Sync erp_invoice_requests: the rows to push (see int_sync_erp_invoice_requests for the rules); only rows routed to NetSuite (erp_system); rows that must not be pushed are in erp_invoice_requests_blocked.
{{ outbound_erp_invoice_requests() }}
