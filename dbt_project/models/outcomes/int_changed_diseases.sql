-- The diseases whose aggregates (models/marts/aggregates/) an incremental build recomputes: the
-- diseases, before this build and after it, of the source patients whose own raw rows changed. A mart row
-- depends only on its patient's rows and on the index record of its person and disease, which changes only
-- when a patient of that person and disease changed; the other links of int_changed_links (their persons'
-- other patients) are rebuilt to the same rows. So the aggregates of every other disease are kept as they
-- are (macros/marts_incremental.sql). Every disease when patient_disease is built from scratch.
-- Before: outcomes.patient_disease as it was (patient_disease waits for this model) and the fingerprints
-- of the last complete build (ops.processed_fingerprints, rebuilt after the marts).
-- In schema intermediate, with int_changed_links: bookkeeping of one build, not an outcome.
{{ config(schema='intermediate') }}
{%- set links = ref('int_changed_links') %}
{%- set fingerprints = ref('int_person_fingerprint') %}
{%- set previous = adapter.get_relation(this.database, 'outcomes', 'patient_disease') if execute else none %}
{%- set processed = adapter.get_relation(this.database, 'ops', 'processed_fingerprints') if execute else none %}
{%- set incremental = previous is not none and processed is not none and not flags.FULL_REFRESH %}
{%- if incremental %}
with changed_patients as (
    select links.patient_key
    from {{ links }} as links
    left join {{ fingerprints }} as now
        on links.person_key = now.person_key and links.patient_key = now.patient_key
    left join {{ processed }} as before
        on links.person_key = before.person_key and links.patient_key = before.patient_key
    where now.n_rows is distinct from before.n_rows or now.fingerprint is distinct from before.fingerprint
)

{% endif -%}
select distinct disease
from (
    select disease from {{ ref('stg_diagnosis') }}
    {%- if incremental %}
    where patient_key in (select patient_key from changed_patients)
    union all
    select disease from {{ previous }}
    where patient_key in (select patient_key from changed_patients)
    {%- endif %}
)
where disease is not null
