{% macro keys_held_in(relation, column) -%}
{#- The distinct values of `column` held in `relation`, read through an index led by `column`: each the next value
    after the one before (a lookup per value, not a read of every row; a few hundred lookups for a few hundred
    keys in a table of hundreds of thousands of rows). A query that returns `column`. -#}
select {{ column }} from (
    with recursive held as (
        (select {{ column }} from {{ relation }} order by {{ column }} limit 1)
        union all
        select (select next_held.{{ column }} from {{ relation }} as next_held
                where next_held.{{ column }} > held.{{ column }} order by next_held.{{ column }} limit 1)
        from held
        where held.{{ column }} is not null
    )
    select {{ column }} from held where {{ column }} is not null
) as held_keys
{%- endmacro %}
