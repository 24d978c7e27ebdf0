-- Sync d365_projects: the rows to push to Dynamics 365 Finance (see int_sync_d365_projects for the rules); rows that must not be pushed are in d365_projects_blocked.
{{ outbound_d365_projects() }}
