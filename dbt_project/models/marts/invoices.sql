-- One row per ERP invoice or credit memo, with its open balance aged as of the as-of date: int_invoices_aged, where
-- the syncs read it too (an intermediate model never reads a mart).
select * from {{ ref('int_invoices_aged') }}
