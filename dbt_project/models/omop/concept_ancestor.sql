-- Only the reflexive rows (every standard concept is its own ancestor at level 0, as in the OMOP
-- vocabulary): the verified subset shows no hierarchy, and we do not invent one. Enough for
-- descendant-based cohort queries on the exact concepts we map to.
with ancestors as (
    select
        concept_id as ancestor_concept_id,
        concept_id as descendant_concept_id,
        0 as min_levels_of_separation,
        0 as max_levels_of_separation
    from {{ ref('vocab_concept_verified') }}
    where standard_concept = 'S'
)
{{ omop_select('ancestors', order_by='ancestor_concept_id') }}
