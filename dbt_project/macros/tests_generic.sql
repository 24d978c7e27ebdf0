{#- A few generic tests written here because `dbt deps` cannot reach the package hub from this project. -#}

{#- The column is a key: no row without it, no two rows with the same one. dbt's unique and not_null in one query (one
    read of the model instead of two, and one node instead of two in the build); a null key is one failing row. -#}
{% test primary_key(model, column_name) %}
    select {{ column_name }} as key_value, count(*) as n_rows
    from {{ model }}
    group by {{ column_name }}
    having count(*) > 1 or {{ column_name }} is null
{% endtest %}

{#- No two rows share the same combination of the given columns. -#}
{% test unique_combination(model, columns) %}
    select {{ columns | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Two queries return the same rows (both directions of except all): used to reconcile marts with raw. -#}
{% test equal_rowsets(model, compare_sql, model_sql) %}
    with a as ({{ model_sql }}), b as ({{ compare_sql }}),
    a_minus_b as (select * from a except all select * from b),
    b_minus_a as (select * from b except all select * from a)
    select 'only in model' as side, * from a_minus_b
    union all
    select 'only in source' as side, * from b_minus_a
{% endtest %}

{#- The expression is true on every row. -#}
{% test expression_is_true(model, expression, column_name=none) %}
    select * from {{ model }} where not coalesce(({{ expression }}), false)
{% endtest %}
