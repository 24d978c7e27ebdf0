-- Rows of sync erp_invoice_requests that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_invoice_requests.
{{ outbound_erp_invoice_requests(blocked=true) }}
