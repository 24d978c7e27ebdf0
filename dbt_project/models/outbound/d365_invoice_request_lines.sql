-- Sync d365_invoice_request_lines: the one line of each unposted free text invoice of d365_invoice_requests (pushed after it); rows that must not be pushed are in d365_invoice_request_lines_blocked.
{{ outbound_d365_invoice_request_lines() }}
