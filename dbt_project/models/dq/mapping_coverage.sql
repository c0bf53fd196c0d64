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

flagged as (
    select
        v.*,
        v.concept_id <> 0 as is_mapped,
        coalesce(c.standard_concept = 'S', false) as is_standard,
        -- a verified id whose standard flag the verified file leaves blank (README: never guessed)
        v.concept_id <> 0 and c.standard_concept is null as is_standard_unknown,
        v.concept_id = 0 and v.source_concept_id > 2000000000 as is_local_only
    from mapped_values as v
    left join {{ ref('concept') }} as c on c.concept_id = v.concept_id
)

select
    source_id,
    entity,
    field,
    count(distinct source_value) as n_values,
    count(distinct source_value) filter (where is_mapped) as n_values_mapped,
    count(distinct source_value) filter (where is_standard) as n_values_standard,
    round(100.0 * count(distinct source_value) filter (where is_mapped)
        / nullif(count(distinct source_value), 0), 2) as pct_values_mapped,
    round(100.0 * count(distinct source_value) filter (where is_standard)
        / nullif(count(distinct source_value), 0), 2) as pct_values_standard,
    count(*) as n_rows,
    count(*) filter (where is_mapped) as n_rows_mapped,
    count(*) filter (where is_standard) as n_rows_standard,
    round(100.0 * count(*) filter (where is_mapped) / count(*), 2) as pct_rows_mapped,
    round(100.0 * count(*) filter (where is_standard) / count(*), 2) as pct_rows_standard,
    count(*) filter (where is_standard_unknown) as n_rows_standard_unknown,
    count(*) filter (where is_local_only) as n_rows_local_concept,
    count(*) filter (where not is_mapped and not is_local_only) as n_rows_unmapped,
    string_agg(distinct source_value, ', ' order by source_value) filter (where not is_mapped) as unmapped_values
from flagged
group by source_id, entity, field
order by source_id, entity, field
