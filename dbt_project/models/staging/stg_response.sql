-- A response assessment or disease event (relapse, progression, transformation).
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    response,
    assessment_date,
    line,
    criteria,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'response') }}
