-- One row per ERP invoice that invoiced time bills: how many projects those time bills belong to, and the first.
-- (Its own table so that int_invoices joins it with real row counts: as a subquery the planner misjudged it.)
select
    erp_invoice_id,
    count(distinct erp_project_id)                              as projects,
    min(erp_project_id)                                         as erp_project_id
from {{ ref('int_time_bills') }}
where erp_invoice_id is not null and erp_project_id is not null
group by 1
