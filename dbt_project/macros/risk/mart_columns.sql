{#- Shared column blocks of the patient-level marts (models/marts/<disease>/), so every mart names its
    identifiers, quasi-identifiers, treatment and endpoint columns the same way. Expects the aliases
    f (outcomes.patient_features), t (outcomes.treatment_lines), e (outcomes.endpoints) and
    br (outcomes.best_response, line 1). -#}
{% macro mart_identity_columns() -%}
    f.person_hash,
    f.source_id,
    f.age_at_diagnosis,
    f.sex,
    f.country,
    f.diagnosis_year,
    f.disease_subtype,
    f.provider_kind,
    f.is_index_record
{%- endmacro %}

{% macro mart_treatment_columns() -%}
    coalesce(t.n_lines, 0) as n_treatment_lines,
    t.first_line_regimen,
    t.first_line_class,
    t.allo_transplant_date is not null as allo_transplant,
    t.auto_transplant_date is not null as auto_transplant,
    br.best_response as best_response_line1
{%- endmacro %}

{% macro mart_endpoint_columns(endpoints) -%}
    e.os_origin_kind,
    e.os_months,
    e.os_event,
    {% for name in endpoints %}e.{{ name }}_months,
    e.{{ name }}_event,
    {% endfor %}e.early_death_30d,
    e.early_death_60d
{%- endmacro %}

{% macro mart_joins() -%}
    left join {{ ref('treatment_lines') }} as t on f.patient_key = t.patient_key
    left join {{ ref('endpoints') }} as e on f.patient_key = e.patient_key and f.disease = e.disease
    left join {{ ref('best_response') }} as br on f.patient_key = br.patient_key and br.line = 1
{%- endmacro %}
