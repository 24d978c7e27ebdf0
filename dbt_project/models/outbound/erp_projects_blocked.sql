-- Rows of sync erp_projects that must not be pushed, each with its reason code, for the engine's exception queue; only rows
-- routed to NetSuite (erp_system), with the columns of erp_projects.
{{ outbound_erp_projects(blocked=true) }}
