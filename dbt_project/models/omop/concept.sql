-- The vocabulary subset: the verified concepts as the verified file shows them (blank attributes stay
-- NULL: never filled by guessing) plus our local concepts (ids > 2,000,000,000, non-standard).
with concepts as (
    select
        concept_id,
        concept_name,
        domain_id,
        vocabulary_id,
        concept_class_id,
        standard_concept,
        concept_code,
        cast(null as date) as valid_start_date,  -- not in the verified file
        cast(null as date) as valid_end_date,
        cast(null as varchar) as invalid_reason
    from {{ ref('vocab_concept_verified') }}
    union all
    select
        concept_id,
        concept_name,
        domain_id,
        vocabulary_id,
        concept_class_id,
        cast(null as varchar) as standard_concept,
        concept_code,
        date '1970-01-01' as valid_start_date,
        date '2099-12-31' as valid_end_date,
        cast(null as varchar) as invalid_reason
    from {{ ref('vocab_concept_local') }}
)
{{ omop_select('concepts', order_by='concept_id') }}
