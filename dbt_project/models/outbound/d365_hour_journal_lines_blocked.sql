-- Rows of sync d365_hour_journal_lines that must not be pushed, each with its reason code, for the engine's exception queue.
{{ outbound_d365_hour_journal_lines(blocked=true) }}
