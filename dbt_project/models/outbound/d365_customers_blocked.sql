-- Rows of sync d365_customers that must not be pushed, each with its reason code, for the engine's exception queue.
{{ outbound_d365_customers(blocked=true) }}
