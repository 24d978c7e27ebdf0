with source as (

    select * from {{ source('dynamics', 'customersv3') }}

),

renamed as (

    select
        -- ids
        id                                                         as erp_customer_id,
        {{ json_text('dataAreaId') }}                              as legal_entity_code,
        {{ json_text('CustomerAccount') }}                         as customer_account,
        {{ json_text('PshCrmAccountId') }}                         as crm_account_id,
        _load_id                                                   as load_id,

        -- strings
        {{ json_text('OrganizationName') }}                        as company_name,
        {{ json_text('CustomerGroupId') }}                         as customer_group,
        {{ json_text('SalesCurrencyCode') }}                       as currency_code,
        {{ json_text('PaymentTerms') }}                            as payment_terms,
        {{ json_text('OnHoldStatus') }}                            as on_hold_status,
        {{ json_text('AddressCountryRegionId') }}                  as country_code,
        {{ json_text('PrimaryContactEmail') }}                     as email,

        -- numerics
        {{ json_numeric('CreditLimit', 2) }}                       as credit_limit,

        -- booleans
        coalesce({{ json_text('OnHoldStatus') }}, 'No') <> 'No'    as is_on_hold,

        -- timestamps
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
