-- Stage, performance status and disease-extent facts.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    system,
    value,
    assessment_date,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'staging') }}
