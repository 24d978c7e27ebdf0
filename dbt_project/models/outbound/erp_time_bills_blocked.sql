-- Rows of sync erp_time_bills that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_time_bills.
{{ outbound_erp_time_bills(blocked=true) }}
