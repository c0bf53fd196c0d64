-- Stage, performance status and disease extent per source patient, at the assessment closest to diagnosis.
-- Ann Arbor / Rai stages are read as numbers (I-IV, 0-IV; suffixes A/B/E/S ignored); Binet stays A/B/C.
-- nccn_extranodal: any involved extranodal site among bone marrow, CNS, liver/GI tract, lung (NCCN-IPI,
-- Zhou et al., Blood 2014); FALSE when sites are reported and none of them is one of these, or zero
-- extranodal sites are reported.
{{ config(materialized='incremental', unique_key='patient_key') }}
with first_diagnosis as (
    select patient_key, min(diagnosis_date) as diagnosis_date
    from {{ ref('stg_diagnosis') }}
    where {{ changed('patient_key') }}
    group by patient_key
),

facts as (
    select
        s.patient_key,
        s.system,
        upper(trim(s.value)) as value,
        abs(datediff('day', coalesce(s.assessment_date, d.diagnosis_date), d.diagnosis_date)) as distance,
        s.assessment_date
    from {{ ref('stg_staging') }} as s
    left join first_diagnosis as d on s.patient_key = d.patient_key
    where {{ changed('s.patient_key') }}
),

single_valued as (
    select *
    from facts
    where system <> 'extranodal_site'
    qualify row_number() over (
        partition by patient_key, system order by distance nulls last, assessment_date nulls first, value
    ) = 1
),

roman as (
    select
        patient_key,
        system,
        value,
        case regexp_extract(value, '^(IV|III|II|I|0|[1-4])', 1)
            when '0' then 0 when 'I' then 1 when '1' then 1 when 'II' then 2 when '2' then 2
            when 'III' then 3 when '3' then 3 when 'IV' then 4 when '4' then 4
        end as stage_number
    from single_valued
),

sites as (
    select
        patient_key,
        bool_or(
            regexp_matches(lower(value), 'bone.?marrow|^bm$|cns|central.?nervous|brain|liver|hepat|gastro|^gi|stomach|intestin|bowel|colon|lung|pulmon')
        ) as nccn_site
    from facts
    where system = 'extranodal_site'
    group by patient_key
)

select
    p.patient_key,
    max(try_cast(r.value as integer)) filter (where r.system = 'ecog') as ecog,
    max(r.stage_number) filter (where r.system = 'ann_arbor') as ann_arbor_stage,
    max(regexp_extract(r.value, '^([ABC])', 1)) filter (where r.system = 'binet') as binet_stage,
    max(r.stage_number) filter (where r.system = 'rai') as rai_stage,
    max(try_cast(r.value as integer)) filter (where r.system = 'extranodal_sites') as extranodal_sites,
    max(try_cast(r.value as integer)) filter (where r.system = 'nodal_areas') as nodal_areas,
    max(r.value in ('Y', 'YES', 'TRUE', '1', 'PRESENT')) filter (where r.system = 'b_symptoms') as b_symptoms,
    max(r.value in ('Y', 'YES', 'TRUE', '1', 'PRESENT')) filter (where r.system = 'cns_involvement')
        as cns_involvement,
    case
        when bool_or(s.nccn_site) then true
        when bool_or(s.nccn_site = false) then false
        when max(try_cast(r.value as integer)) filter (where r.system = 'extranodal_sites') = 0 then false
    end as nccn_extranodal
from (select patient_key from facts group by patient_key) as p
left join roman as r on p.patient_key = r.patient_key
left join sites as s on p.patient_key = s.patient_key
group by p.patient_key
