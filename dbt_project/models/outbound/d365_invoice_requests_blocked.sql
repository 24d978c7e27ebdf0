-- Rows of sync d365_invoice_requests that must not be pushed, each with its reason code, for the engine's exception queue.
{{ outbound_d365_invoice_requests(blocked=true) }}
