{{ config(schema='ops', materialized='table') }}
-- Mapping coverage per source and field: the share of distinct source values, and of rows, whose
-- concept is not 0 (mapped) and is a standard concept (standard). Lab values, cytogenetics, genes and
-- responses mapped to local concepts (non-standard) count as unmapped to a standard concept.
-- n_rows_standard_unknown: mapped to a verified id whose standard flag is blank in the verified file;
-- n_rows_local_concept: concept 0 but a local source concept. Rows are the intermediate (de-duplicated) facts, attributed to the source of the kept row.
with mapped_values as (
    select p.source_id, 'patient' as entity, 'sex' as field, p.sex as source_value,
           coalesce(m.target_concept_id, 0) as concept_id, 0 as source_concept_id
    from {{ ref('stg_patient') }} as p
    left join {{ ref('vocab_source_to_concept_map') }} as m
        on m.source_vocabulary_id = 'HARMONY_SEX' and m.source_code = p.sex
    union all
    select source_id, 'diagnosis', 'code', condition_source_value, condition_concept_id, condition_source_concept_id
    from {{ ref('int_condition_occurrence') }}
    union all
    select source_id, 'lab_result', 'lab', lab, measurement_concept_id, measurement_source_concept_id from {{ ref('int_lab_result') }}
    union all
    select source_id, 'lab_result', 'unit', unit_source_value, unit_concept_id, 0 from {{ ref('int_lab_result') }}
    union all
    select
        source_id,
        case fact_kind when 'flt3_itd_ratio' then 'mutation' else fact_kind end,
        case fact_kind
            when 'cytogenetics' then 'abnormality'
            when 'mutation' then 'gene'
            when 'flt3_itd_ratio' then 'allelic_ratio'
            when 'staging' then 'system:value'
            else 'response'
        end,
        measurement_source_value,
        measurement_concept_id,
        measurement_source_concept_id
    from {{ ref('int_measurement') }}
    where fact_kind <> 'lab'
    union all
    select source_id, 'treatment', 'drug', drug, drug_concept_id, 0 from {{ ref('int_drug_exposure') }}
    where drug is not null
    union all
    select source_id, 'treatment', 'regimen', regimen, regimen_concept_id, 0 from {{ ref('int_drug_exposure') }}
    where regimen is not null
    union all
    select source_id, 'transplant', 'transplant_type', transplant_type, procedure_concept_id, procedure_source_concept_id
    from {{ ref('int_procedure_occurrence') }}
),

-- one row per distinct value and concept, with its number of rows: the distinct counts below read a
-- few hundred rows instead of every fact (one hash aggregate over the facts instead of five)
value_rows as (
    select source_id, entity, field, source_value, concept_id, source_concept_id, count(*) as n
    from mapped_values
    group by all
),

flagged as (
    select
        v.*,
        v.concept_id <> 0 as is_mapped,
        coalesce(c.standard_concept = 'S', false) as is_standard,
        -- a verified id whose standard flag the verified file leaves blank (README: never guessed)
        v.concept_id <> 0 and c.standard_concept is null as is_standard_unknown,
        v.concept_id = 0 and v.source_concept_id > 2000000000 as is_local_only
    from value_rows as v
    left join {{ ref('concept') }} as c on c.concept_id = v.concept_id
),

counts as (
    select
        source_id,
        entity,
        field,
        count(distinct source_value) as n_values,
        count(distinct source_value) filter (where is_mapped) as n_values_mapped,
        count(distinct source_value) filter (where is_standard) as n_values_standard,
        {%- for name, condition in [('n_rows', 'true'), ('n_rows_mapped', 'is_mapped'), ('n_rows_standard', 'is_standard'),
                                    ('n_rows_standard_unknown', 'is_standard_unknown'), ('n_rows_local_concept', 'is_local_only'),
                                    ('n_rows_unmapped', 'not is_mapped and not is_local_only')] %}
        cast(coalesce(sum(n) filter (where {{ condition }}), 0) as bigint) as {{ name }},
        {%- endfor %}
        string_agg(distinct source_value, ', ' order by source_value) filter (where not is_mapped) as unmapped_values
    from flagged
    group by source_id, entity, field
)

select
    source_id,
    entity,
    field,
    n_values,
    n_values_mapped,
    n_values_standard,
    round(100.0 * n_values_mapped / nullif(n_values, 0), 2) as pct_values_mapped,
    round(100.0 * n_values_standard / nullif(n_values, 0), 2) as pct_values_standard,
    n_rows,
    n_rows_mapped,
    n_rows_standard,
    round(100.0 * n_rows_mapped / n_rows, 2) as pct_rows_mapped,
    round(100.0 * n_rows_standard / n_rows, 2) as pct_rows_standard,
    n_rows_standard_unknown,
    n_rows_local_concept,
    n_rows_unmapped,
    unmapped_values
from counts
order by source_id, entity, field
