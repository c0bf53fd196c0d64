-- Labs (UCUM), cytogenetics, FISH, mutations (VAF), MRD, stage, ECOG and responses. Facts that modify
-- the diagnosis point to it: measurement_event_id = the person's condition_occurrence_id (the latest
-- diagnosis on or before the measurement, else the earliest) and meas_event_field_concept_id =
-- 1147127 (condition_occurrence.condition_occurrence_id, verified).
-- The hash joins build on the side the SQL puts on the right (the hooks): DuckDB estimates each filter
-- at 20% of the rows, so the filtered facts looked smaller than the id registry and the visits and it
-- built its hash tables on the 18.8M wide facts (1M patients: a full refresh of this model ran out
-- of 6 GB; 11.6 s with the hooks, where the registry's 18.8M rows take 20 bytes each). Only a build from
-- scratch sets it: the setting is global, and such a build runs one model at a time, so it reaches no
-- other model; an incremental build runs two at a time, and its changed facts are few (1M patients, one
-- delivery: 1.8 to 2.4 s either way). No order by: sorting 19M rows was a third of the time, and an
-- incremental build appends the changed persons' rows anyway.
{{ config(
    materialized='incremental',
    unique_key='person_id',
    pre_hook="{{ \"set disabled_optimizers = 'build_side_probe_side'\" if not is_incremental() }}",
    post_hook="{{ 'reset disabled_optimizers' if not is_incremental() }}",
) }}
with facts as (
    select
        ids.id as measurement_id,
        p.person_id,
        m.measurement_date,
        m.measurement_concept_id,
        m.measurement_source_concept_id,
        m.measurement_source_value,
        m.value_as_number,
        m.value_as_concept_id,
        m.value_source_value,
        m.unit_concept_id,
        m.unit_source_value,
        m.is_disease_modifier,
        m.source_id
    from {{ ref('int_measurement') }} as m
    inner join {{ ref('int_omop_person') }} as p on m.person_key = p.person_key
    left join {{ ref('id_measurement') }} as ids on ids.key_hash = m.key_hash
    -- a date is required by the CDM; the rest is in ops.omop_excluded_records
    where m.measurement_date is not null and {{ changed('m.person_key') }}
),

conditions as (
    select
        person_id,
        condition_occurrence_id,
        condition_start_date,
        count(*) over (partition by person_id) as n_conditions
    from {{ ref('condition_occurrence') }}
    where {{ changed('person_id') }}
),

-- Most persons have one diagnosis: link directly; otherwise rank the person's diagnoses.
diagnosis_link as (
    select f.measurement_id, c.condition_occurrence_id
    from facts as f
    inner join conditions as c on c.person_id = f.person_id and c.n_conditions = 1
    where f.is_disease_modifier
    union all
    select measurement_id, condition_occurrence_id
    from (
        select
            f.measurement_id,
            c.condition_occurrence_id,
            row_number() over (
                partition by f.measurement_id
                order by
                    case when c.condition_start_date <= f.measurement_date then 0 else 1 end,
                    case when c.condition_start_date <= f.measurement_date then -epoch(c.condition_start_date)
                         else epoch(c.condition_start_date) end,
                    c.condition_occurrence_id
            ) as rank_
        from facts as f
        inner join conditions as c on c.person_id = f.person_id and c.n_conditions > 1
        where f.is_disease_modifier
    ) as ranked
    where rank_ = 1
),

measurements as (
    select
        f.measurement_id,
        f.person_id,
        f.measurement_concept_id,
        f.measurement_date,
        cast(f.measurement_date as timestamp) as measurement_datetime,
        coalesce(t.type_concept_id, 0) as measurement_type_concept_id,
        f.value_as_number,
        f.value_as_concept_id,
        f.unit_concept_id,
        v.visit_occurrence_id,
        f.measurement_source_value,
        f.measurement_source_concept_id,
        f.unit_source_value,
        f.value_source_value,
        l.condition_occurrence_id as measurement_event_id,
        case when l.condition_occurrence_id is not null then 1147127 end as meas_event_field_concept_id
    from facts as f
    left join diagnosis_link as l on l.measurement_id = f.measurement_id
    left join {{ ref('int_source_type') }} as t on f.source_id = t.source_id
    left join {{ ref('visit_occurrence') }} as v
        on v.person_id = f.person_id and v.visit_start_date = f.measurement_date
)
{{ omop_select('measurements') }}
