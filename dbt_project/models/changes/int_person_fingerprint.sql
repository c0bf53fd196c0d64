-- A fingerprint of the raw rows of every link between a person and a source patient: how many rows and
-- a hash of their identities (entity, source, delivery, file, row number). A new, re-loaded or withdrawn
-- delivery changes the fingerprints of exactly the links it touches; int_changed_links compares them
-- with those of the last complete build. Raw tables only grow by whole deliveries (ingest), so row
-- identities suffice: values are not hashed.
{% set entities = ['patient', 'diagnosis', 'lab_result', 'cytogenetics', 'mutation', 'treatment', 'response',
                   'transplant', 'staging', 'follow_up'] %}
select
    person_key,
    patient_key,
    count(*) as n_rows,
    sum(hash(entity, source_id, delivery_id, file_name, row_number)) as fingerprint
from (
    {% for entity in entities %}
    select person_key, patient_key, '{{ entity }}' as entity, source_id, delivery_id, file_name, row_number
    from {{ ref('stg_' ~ entity) }}
    {{ 'union all' if not loop.last }}
    {% endfor %}
) as raw_rows
group by person_key, patient_key
