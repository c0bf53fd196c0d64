-- The provider kind of each source and the OMOP type concept its records get (trial -> Case Report
-- Form, registry -> Registry, hospital -> EHR). One row per source_id.
with kinds as (
    select source_id, min(provider_kind) as provider_kind
    from {{ ref('stg_patient') }}
    group by source_id
)
select
    source_id,
    provider_kind,
    {{ type_concept('provider_kind') }} as type_concept_id
from kinds
