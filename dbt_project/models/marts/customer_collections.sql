-- One row per customer: open and overdue AR, aging buckets, DSO, last payment and credit hold:
-- int_customer_collections, where the syncs read it too (an intermediate model never reads a mart).
select * from {{ ref('int_customer_collections') }}
