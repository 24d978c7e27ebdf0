-- Rows of sync erp_expenses that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_expenses.
{{ outbound_erp_expenses(blocked=true) }}
