-- A haematopoietic stem-cell transplant.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    transplant_date,
    transplant_type,
    donor_type,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'transplant') }}
