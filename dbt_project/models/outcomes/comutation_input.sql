-- Gene status per source patient and disease, the input of the co-mutation mart.
-- IGHV is a CLL prognostic marker (somatic hypermutation), not a gene mutation: left out.
-- One record per person (is_index_record), so a person reported by two sources counts once.
-- Incremental by source patient (`patient`, macros/incremental.sql).
{{ config(materialized='incremental', unique_key='patient') }}
select
    pd.disease,
    pd.patient_key as patient,
    upper(trim(m.gene)) as gene,
    bool_or(m.status = 'mutated') as mutated
from {{ ref('patient_disease') }} as pd
inner join {{ ref('stg_mutation') }} as m on pd.patient_key = m.patient_key
where upper(trim(m.gene)) <> 'IGHV' and pd.is_index_record and {{ changed('pd.patient_key') }}
    and {{ changed('m.patient_key') }}
group by pd.disease, pd.patient_key, upper(trim(m.gene))
