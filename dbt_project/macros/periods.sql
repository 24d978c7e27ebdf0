{% macro posting_period_join(alias, engagement_id, on_date, posted_system='null::text', posted_company='null::text',
                              day_periods=none) %}
{#- Left-joins, as `alias`, the accounting period (int_accounting_periods) a record dated `on_date` posts in: of the
    ERP and company already holding it (posted_system, posted_company), else of the ERP its engagement's legal entity
    posts to on that date (int_erp_routes: the entity of the deal, else of its customer, as int_engagement_facts says
    it), else NetSuite's (no engagement, or an entity with no route). NetSuite's calendar serves every subsidiary;
    a Dynamics 365 Finance company has its own. Joins also `alias`_deal, `alias`_entity, `alias`_customer and
    `alias`_route. day_periods: a relation of the periods by day (work_date, erp_system, erp_company, ...) to join by
    the day instead of by the periods' date range (many records, few days). -#}
left join {{ ref('int_crm_opportunities') }} as {{ alias }}_deal on {{ alias }}_deal.crm_opportunity_id = {{ engagement_id }}
left join {{ ref('legal_entities') }} as {{ alias }}_entity on {{ alias }}_entity.legal_entity = {{ alias }}_deal.legal_entity
left join {{ ref('int_customers_matched') }} as {{ alias }}_customer
    on {{ alias }}_customer.crm_account_id = {{ alias }}_deal.crm_account_id
{{ erp_route_join(alias ~ '_route', 'coalesce(' ~ alias ~ '_entity.legal_entity, ' ~ alias ~ '_customer.legal_entity)', on_date) }}
left join {{ day_periods or ref('int_accounting_periods') }} as {{ alias }}
    on {{ alias }}.erp_system = coalesce({{ posted_system }}, {{ alias }}_route.erp_system, 'netsuite')
    and ({{ alias }}.erp_company is null
         or {{ alias }}.erp_company = case when {{ posted_system }} is not null then {{ posted_company }}
                                           else {{ alias }}_route.erp_company end)
    {%- if day_periods %}
    and {{ alias }}.work_date = ({{ on_date }})
    {%- else %}
    and ({{ on_date }}) between {{ alias }}.start_date and {{ alias }}.end_date
    {%- endif %}
{%- endmacro %}
