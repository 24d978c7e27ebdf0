-- Rows of sync d365_projects that must not be pushed, each with its reason code, for the engine's exception queue.
{{ outbound_d365_projects(blocked=true) }}
