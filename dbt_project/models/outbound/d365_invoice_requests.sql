-- Sync d365_invoice_requests: the unposted free text invoices to push to Dynamics 365 Finance (see int_sync_d365_invoice_requests for the rules); rows that must not be pushed are in d365_invoice_requests_blocked.
{{ outbound_d365_invoice_requests() }}
