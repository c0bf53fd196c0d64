-- One numeric laboratory value in its canonical unit.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    lab,
    value,
    unit,
    measured_date,
    source_value,
    source_unit,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'lab_result') }}
