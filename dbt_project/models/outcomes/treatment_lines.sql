-- One row per treated source patient: lines of therapy and transplants.
-- first_line_class: the treatment classes of line 1 in alphabetical order, joined by '+' (NULL when a
-- row of the line has no class).
{{ config(materialized='incremental', unique_key='patient_key') }}
with treatment as (
    select * from {{ ref('stg_treatment') }}
    where {{ changed('patient_key') }}
    qualify row_number() over (partition by patient_key, line, drug order by delivery_id desc, row_number desc) = 1
),

lines as (
    select
        patient_key,
        line,
        min(start_date) as start_date,
        max(end_date) as end_date,
        string_agg(distinct regimen, '+' order by regimen) as regimen,
        -- NULL unless every row is classified: a line with an unclassified drug is not the class of the rest
        case when count(*) = count(treatment_class)
            then string_agg(distinct treatment_class, '+' order by treatment_class) end as treatment_class
    from treatment
    group by patient_key, line
),

ranked as (
    select *, row_number() over (partition by patient_key order by start_date, line) as line_order
    from lines
),

transplant as (
    select
        patient_key,
        min(transplant_date) filter (where transplant_type = 'allogeneic') as allo_transplant_date,
        min(transplant_date) filter (where transplant_type = 'autologous') as auto_transplant_date
    from {{ ref('stg_transplant') }}
    where {{ changed('patient_key') }}
    group by patient_key
),

per_patient as (
    select
        patient_key,
        count(*) as n_lines,
        min(start_date) as first_line_start,
        max(regimen) filter (where line_order = 1) as first_line_regimen,
        max(treatment_class) filter (where line_order = 1) as first_line_class,
        max(end_date) filter (where line_order = 1) as first_line_end,
        min(start_date) filter (where line_order = 2) as second_line_start
    from ranked
    group by patient_key
)

select
    coalesce(p.patient_key, t.patient_key) as patient_key,
    coalesce(p.n_lines, 0) as n_lines,
    p.first_line_start,
    p.first_line_end,
    p.first_line_regimen,
    p.first_line_class,
    p.second_line_start,
    t.allo_transplant_date,
    t.auto_transplant_date
from per_patient as p
full outer join transplant as t on p.patient_key = t.patient_key
