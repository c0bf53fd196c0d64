-- One drug of one line of therapy.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    line,
    regimen,
    drug,
    treatment_class,
    start_date,
    end_date,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'treatment') }}
