-- Candidates of syncs d365_invoice_requests and d365_invoice_request_lines: the completed milestones of
-- int_sync_erp_invoice_requests routed to Dynamics 365 Finance (the engagement's legal entity posts there on the
-- milestone's date), as a free text invoice left unposted (IsPosted No) in the entity's company, with one line: the
-- draft finance reviews and posts, as NetSuite's invoice request record. Keyed by (dataAreaId, InvoiceIdentifier),
-- the identifier being the PSA milestone id. A draft is not an invoice: int_erp_invoices reads posted ones only.
-- Entities: "Free text invoice header" / "Free text invoice line" (FreeTextInvoiceHeaderEntity,
-- FreeTextInvoiceLineEntity; Common Data Model operationsCommon, sets FreeTextInvoiceHeaders / -Lines).
select
    candidates.external_id,
    candidates.erp_company                                      as "dataAreaId",
    {{ d365_line_number('candidates.external_id') }}            as "InvoiceIdentifier",
    accounts.customer_account                                   as "CustomerAccount",
    candidates.custrecord_pshub_ir_date                         as "InvoiceDate",
    candidates._currency                                        as "CurrencyCode",
    'No'                                                        as "IsPosted",
    candidates.name                                             as "InvoiceDescription",
    projects.project_code                                       as "PshProjectId",
    1                                                           as "LineNumber",
    candidates.custrecord_pshub_ir_milestone                    as "Description",
    1                                                           as "Quantity",
    candidates.custrecord_pshub_ir_amount                       as "UnitPrice",
    candidates.custrecord_pshub_ir_amount                       as "LineAmount",
    candidates._customer,
    candidates._engagement,
    candidates._amount_at_stake,
    candidates._currency,
    case
        when projects.project_code is null then 'engagement_not_in_erp'
        when accounts.customer_account is null then 'customer_not_in_erp'
        -- the NetSuite project is not the point here (the Dynamics one is): the later reasons stand
        else candidates._hold_reason_code
    end                                                         as block_reason_code
from {{ ref('int_sync_erp_invoice_requests') }} as candidates
left join {{ ref('int_engagement_facts') }} as facts on facts.engagement_id = candidates._engagement
left join {{ d365_project_codes() }} as projects
    on projects.engagement_id = candidates._engagement and projects.data_area_id = candidates.erp_company
left join {{ d365_customer_accounts() }} as accounts
    on accounts.crm_account_id = facts.crm_account_id and accounts.data_area_id = candidates.erp_company
where candidates.erp_system = 'dynamics'
