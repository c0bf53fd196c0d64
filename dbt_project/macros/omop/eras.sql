{# Eras (OMOP CDM v5.4 condition_era / drug_era conventions): records of one person and concept whose
   spans are at most `persistence_days` apart form one era. Gaps-and-islands over the sorted spans.
   Returns person_id, concept_id, era_start_date, era_end_date, record_count, gap_days. #}
{% macro omop_eras(spans_relation, persistence_days=30) -%}
    with ordered as (
        select
            *,
            max(span_end) over (
                partition by person_id, concept_id order by span_start, span_end
                rows between unbounded preceding and 1 preceding
            ) as previous_end
        from {{ spans_relation }}
    ),

    flagged as (
        select
            *,
            case when previous_end is null or span_start > previous_end + {{ persistence_days }} then 1 else 0 end
                as starts_era,
            case when previous_end is not null and span_start > previous_end + 1
                 and span_start <= previous_end + {{ persistence_days }}
                 then datediff('day', previous_end, span_start) - 1 else 0 end as gap
        from ordered
    ),

    numbered as (
        select
            *,
            sum(starts_era) over (
                partition by person_id, concept_id order by span_start, span_end rows unbounded preceding
            ) as era_number
        from flagged
    )

    select
        person_id,
        concept_id,
        min(span_start) as era_start_date,
        max(span_end) as era_end_date,
        count(*) as record_count,
        sum(gap) as gap_days
    from numbered
    group by person_id, concept_id, era_number
{%- endmacro %}
