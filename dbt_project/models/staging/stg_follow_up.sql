-- Vital status at last contact.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    last_contact_date,
    vital_status,
    death_date,
    death_cause,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'follow_up') }}
