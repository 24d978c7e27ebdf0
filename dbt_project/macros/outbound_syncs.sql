{#- The outbound models of the ERP syncs (NetSuite erp_*, Dynamics 365 Finance d365_*): each sync's columns, written
    once here, serve both its model of rows to push and its _blocked twin (the same columns and block_reason_code),
    so that the two never drift apart. -#}

{% macro outbound_rows(candidates, columns, blocked, routed_to=none) -%}
{#- The rows of a sync from its candidates model: blocked false, those to push; true, those a rule holds, with
    block_reason_code, for the engine's exception queue. routed_to: only the rows that ERP takes (erp_system). -#}
select
    {{ columns | join(',\n    ') }}{% if blocked %},
    block_reason_code{% endif %}
from {{ ref(candidates) }}
where block_reason_code is {% if blocked %}not {% endif %}null{% if routed_to %} and erp_system = '{{ routed_to }}'{% endif %}
{%- endmacro %}

{% macro outbound_d365_customers(blocked=false) -%}
{{ outbound_rows('int_sync_d365_customers', [
    'external_id', '"dataAreaId"', '"CustomerAccount"', '"OrganizationName"', '"CustomerGroupId"',
    '"SalesCurrencyCode"', '"PaymentTerms"', '"PshCrmAccountId"', '_erp_customer_account', '_match_method',
    '_legal_entity', '_customer'
], blocked) }}
{%- endmacro %}

{% macro outbound_d365_expense_journal_lines(blocked=false) -%}
{{ outbound_rows('int_sync_d365_expense_journal_lines', [
    'external_id', '"dataAreaId"', '"JournalBatchNumber"', '"LineNumber"', '"ProjId"', '"ResourceId"',
    '"ProjectCategory"', '"ProjectDate"', '"DebitAmount"', '"CurrencyCode"', '"ProjectLineProperty"', '"Text"',
    '"PshExternalId"', '_in_erp',
    '_customer', '_engagement', '_amount_at_stake', '_currency'
], blocked) }}
{%- endmacro %}

{% macro outbound_d365_hour_journal_lines(blocked=false) -%}
{{ outbound_rows('int_sync_d365_hour_journal_lines', [
    'external_id', '"dataAreaId"', '"JournalId"', '"LineNumber"', '"ProjectID"', '"ResourceId"', '"Category"',
    '"ProjectDate"', '"Hours"', '"SalesPrice"', '"CurrencyId"', '"LineProperty"', '"Description"', '"PshExternalId"',
    '_in_erp', '_customer', '_engagement', '_amount_at_stake', '_currency'
], blocked) }}
{%- endmacro %}

{% macro outbound_d365_invoice_request_lines(blocked=false) -%}
{{ outbound_rows('int_sync_d365_invoice_requests', [
    'external_id', '"dataAreaId"', '"InvoiceIdentifier"', '"LineNumber"', '"Description"', '"Quantity"',
    '"UnitPrice"', '"LineAmount"', '"PshProjectId"', '_customer', '_engagement', '_amount_at_stake', '_currency'
], blocked) }}
{%- endmacro %}

{% macro outbound_d365_invoice_requests(blocked=false) -%}
{{ outbound_rows('int_sync_d365_invoice_requests', [
    'external_id', '"dataAreaId"', '"InvoiceIdentifier"', '"CustomerAccount"', '"InvoiceDate"', '"CurrencyCode"',
    '"IsPosted"', '"InvoiceDescription"', '"PshProjectId"', '_customer', '_engagement', '_amount_at_stake',
    '_currency'
], blocked) }}
{%- endmacro %}

{% macro outbound_d365_projects(blocked=false) -%}
{{ outbound_rows('int_sync_d365_projects', [
    'external_id', '"dataAreaId"', '"ProjectID"', '"ProjectName"', '"CustomerAccount"', '"ProjectGroup"',
    '"ProjectType"', '"ProjectStage"', '"StartDate"', '"EndDate"', '"CurrencyCode"', '"PshCrmOpportunityId"',
    '"PshBillingModel"', '"PshServiceLine"', '_erp_project_code', '_match_method', '_customer', '_engagement',
    '_amount_at_stake', '_currency'
], blocked) }}
{%- endmacro %}

{% macro outbound_erp_customers(blocked=false) -%}
{{ outbound_rows('int_sync_erp_customers', [
    'external_id', '"companyName"', 'subsidiary', 'currency', 'terms', '_erp_customer_id', '_match_method',
    '_legal_entity', '_customer'
], blocked, routed_to='netsuite') }}
{%- endmacro %}

{% macro outbound_erp_expenses(blocked=false) -%}
{{ outbound_rows('int_sync_erp_expenses', [
    'external_id', 'employee', 'entity', '"tranDate"', 'category', 'amount', 'currency', '"isBillable"', 'memo',
    '_erp_expense_report_id', '_customer', '_engagement', '_amount_at_stake', '_currency'
], blocked, routed_to='netsuite') }}
{%- endmacro %}

{% macro outbound_erp_invoice_requests(blocked=false) -%}
{{ outbound_rows('int_sync_erp_invoice_requests', [
    'external_id', 'name', 'custrecord_pshub_ir_project', 'custrecord_pshub_ir_amount',
    'custrecord_pshub_ir_currency', 'custrecord_pshub_ir_milestone', 'custrecord_pshub_ir_date',
    'custrecord_pshub_ir_status', '_customer', '_engagement', '_amount_at_stake', '_currency'
], blocked, routed_to='netsuite') }}
{%- endmacro %}

{% macro outbound_erp_projects(blocked=false) -%}
{{ outbound_rows('int_sync_erp_projects', [
    'external_id', '"companyName"', 'parent', 'subsidiary', 'currency', '"entityStatus"', '"jobBillingType"',
    '"startDate"', '"projectedEndDate"', '"projectedValue"', 'custentity_billing_model', 'custentity_service_line',
    'custentity_crm_opportunity_id', '_erp_project_id', '_match_method', '_customer', '_engagement',
    '_amount_at_stake', '_currency'
], blocked, routed_to='netsuite') }}
{%- endmacro %}

{% macro outbound_erp_time_bills(blocked=false) -%}
{{ outbound_rows('int_sync_erp_time_bills', [
    'external_id', 'employee', 'customer', 'item', 'hours', 'rate', '"isBillable"', '"tranDate"', 'memo',
    '_erp_time_bill_id', '_customer', '_engagement', '_amount_at_stake', '_currency', '_load_watermark'
], blocked, routed_to='netsuite') }}
{%- endmacro %}
