-- Best response per source patient and line of therapy.
-- A response without a line is attributed to the latest line started on or before its assessment date;
-- with no treatment recorded its line stays NULL. Disease events (relapse, AML transformation) are not
-- responses. Order (best first): sCR, CR, CRh, CRi, MLFS, VGPR, PR, MR, SD, NR, refractory, PD, progression
-- (ELN 2022, IMWG, Lugano and iwCLL categories as delivered in canonical codes).
{{ config(materialized='incremental', unique_key='patient_key') }}
with response as (
    select distinct patient_key, response, assessment_date, line
    from {{ ref('stg_response') }}
    where response not in ('relapse', 'aml_transformation') and {{ changed('patient_key') }}
),

line_starts as (
    select patient_key, line, min(start_date) as start_date
    from {{ ref('stg_treatment') }}
    where {{ changed('patient_key') }}
    group by patient_key, line
),

attributed as (
    select
        r.patient_key,
        r.response,
        r.assessment_date,
        coalesce(r.line, (
            select max_by(ls.line, ls.start_date)
            from line_starts as ls
            where ls.patient_key = r.patient_key and ls.start_date <= r.assessment_date
        )) as line,
        case r.response
            when 'sCR' then 1 when 'CR' then 2 when 'CRh' then 3 when 'CRi' then 4 when 'MLFS' then 5
            when 'VGPR' then 6 when 'PR' then 7 when 'MR' then 8 when 'SD' then 9 when 'NR' then 10
            when 'refractory' then 11 when 'PD' then 12 when 'progression' then 13
        end as response_rank
    from response as r
)

select
    patient_key,
    line,
    arg_min(response, response_rank * 100000 + epoch(assessment_date) / 86400) as best_response,
    min(assessment_date) filter (where response_rank <= 4) as first_cr_date,
    count(*) as n_assessments
from attributed
group by patient_key, line
