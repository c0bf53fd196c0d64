-- The haematological malignancy a patient is registered with.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    disease,
    subtype,
    diagnosis_date,
    code_system,
    code,
    source_value,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'diagnosis') }}
