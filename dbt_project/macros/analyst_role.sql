{#- Access: a read-only role pshub_analyst that can read the marts schema and nothing else. The role is a group
    (NOLOGIN) held by analysts' own logins (`pshub analysts add alice`). Marts models grant select to it
    (dbt `grants` config, re-applied on every rebuild); usage on the schema, and select on the tables created in
    it later by this user (default privileges: a mart whose own config would leave the grant out), are granted
    at the end of each run. -#}
{% macro ensure_analyst_role() %}
    do $$
    begin
        if not exists (select 1 from pg_roles where rolname = 'pshub_analyst') then
            create role pshub_analyst nologin;
        end if;
    exception when insufficient_privilege then
        raise notice 'pshub: no privilege to create role pshub_analyst; ask a DBA to create it';
    end
    $$;
{% endmacro %}

{% macro grant_analyst_schema_usage() %}
    {% if execute %}
    do $$
    begin
        if exists (select 1 from pg_roles where rolname = 'pshub_analyst')
           and exists (select 1 from pg_namespace where nspname = 'marts') then
            grant usage on schema marts to pshub_analyst;
            alter default privileges in schema marts grant select on tables to pshub_analyst;
        end if;
    end
    $$;
    {% endif %}
{% endmacro %}
