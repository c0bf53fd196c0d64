-- One gene tested: mutated or wild type, with VAF and variant when given.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
select
    source_id,
    delivery_id,
    file_name,
    row_number,
    patient_key,
    person_key,
    gene,
    status,
    variant,
    vaf,
    allelic_ratio,
    test_date,
    {{ harmony_id('person_key') }} as person_hash
from {{ source('raw', 'mutation') }}
