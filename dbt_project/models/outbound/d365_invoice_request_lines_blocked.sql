-- Rows of sync d365_invoice_request_lines that must not be pushed, each with its reason code, for the engine's exception queue.
{{ outbound_d365_invoice_request_lines(blocked=true) }}
