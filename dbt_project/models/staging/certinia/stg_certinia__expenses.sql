-- Certinia expenses (pse__Expense__c).
with source as (

    select * from {{ source('certinia', 'pse__expense__c') }}

),

renamed as (

    select
        -- ids
        id                                                         as psa_expense_id,
        {{ json_id('pse__Project__c') }}                           as psa_project_id,
        {{ json_id('pse__Resource__c') }}                          as psa_user_id,
        _load_id                                                   as load_id,
        -- strings
        {{ json_text('pse__Type__c') }}                            as category,
        {{ json_text('pse__Description__c') }}                     as notes,
        {{ json_text('CurrencyIsoCode') }}                         as currency_code,
        -- numerics
        {{ json_numeric('pse__Amount__c', 2) }}                       as amount,
        -- booleans
        {{ json_bool('pse__Billable__c') }}                        as is_billable,
        {{ json_bool('pse__Billed__c') }}                          as is_invoiced,
        not coalesce({{ json_bool('pse__Non_Reimbursible__c') }}, false) as is_reimbursable,
        {{ json_bool('pse__Approved__c') }}                        as is_approved,
        -- dates
        {{ json_date('pse__Expense_Date__c') }}                    as expense_date,
        -- timestamps
        {{ json_timestamp('CreatedDate') }}                         as created_at,
        source_updated_at                                          as updated_at,
        _landed_at                                                 as landed_at

    from source
    where not is_deleted

)

select * from renamed
