-- One drug of one line of therapy.
-- Typed canonical rows that passed the quality gate, with the person's deterministic id.
-- treatment_class: the class the delivery states (its contract maps one) wins; otherwise the class of
-- the regimen in seeds/treatment_classes.csv, or of the drug when the row names no regimen. A regimen
-- the seed does not list stays NULL (never guessed from its drugs); the warn test in _stg_treatment.yml
-- counts those rows. Names match whatever their case, accents, spaces and separators ('Aza / Ven' is
-- 'aza-ven'): real deliveries spell regimens many ways.
{%- set name_key = "regexp_replace(strip_accents(lower(NAME)), '[^a-z0-9]', '', 'g')" %}
with classes as (
    select {{ name_key | replace('NAME', 'name') }} as name_key, treatment_class
    from {{ ref('treatment_classes') }}
)

select
    t.source_id,
    t.delivery_id,
    t.file_name,
    t.row_number,
    t.patient_key,
    t.person_key,
    t.line,
    t.regimen,
    t.drug,
    coalesce(t.treatment_class, classes.treatment_class) as treatment_class,
    t.start_date,
    t.end_date,
    {{ harmony_id('t.person_key') }} as person_hash
from {{ source('raw', 'treatment') }} as t
left join classes on classes.name_key = {{ name_key | replace('NAME', 'coalesce(t.regimen, t.drug)') }}
