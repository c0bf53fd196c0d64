-- The links (person_key, patient_key) an incremental build rebuilds: those whose fingerprint differs
-- from the last complete build (ops.processed_fingerprints; before the first one, every link), new
-- ones and gone ones, closed over shared persons and patients. The closure keeps together what is
-- computed across one person's sources (the index record, the OMOP person) and one patient's persons
-- (a patient re-delivered under a corrected person_key). person_id and person_hash are the other keys
-- incremental models delete by (macros/incremental.sql).
-- (its parents whatever the branch below, so a full refresh builds it in the same place)
-- depends_on: {{ ref('int_person_fingerprint') }}
-- depends_on: {{ ref('id_person') }}
{%- if flags.FULL_REFRESH %}
-- A full refresh rebuilds every model from scratch and reads no changed links (macros/incremental.sql),
-- so the closure over every link (9.5 s at 1M patients) is not computed.
select
    cast(null as varchar) as person_key,
    cast(null as varchar) as patient_key,
    cast(null as bigint) as person_hash,
    cast(null as integer) as person_id
where false
{%- else %}
{%- set processed = adapter.get_relation(this.database, 'ops', 'processed_fingerprints') if execute else none %}
with recursive stale as (
    -- the sources whose fingerprints changed since the last complete build: the other sources' links
    -- are the same in both
    {%- if processed %}
    {{ stale_sources(processed, ref('int_person_fingerprint')) }}
    {%- else %}
    select distinct source_id from {{ ref('int_person_fingerprint') }}
    {%- endif %}
),

current_links as (
    select person_key, patient_key, n_rows, fingerprint from {{ ref('int_person_fingerprint') }}
    where source_id in (select source_id from stale)
),

previous_links as (
    {%- if processed %}
    select person_key, patient_key, n_rows, fingerprint from {{ processed }}
    where source_id in (select source_id from stale)
    {%- else %}
    select * from current_links where false
    {%- endif %}
),

changed as (
    select coalesce(c.person_key, p.person_key) as person_key
    from current_links as c
    full outer join previous_links as p on c.person_key = p.person_key and c.patient_key = p.patient_key
    where c.n_rows is distinct from p.n_rows or c.fingerprint is distinct from p.fingerprint
),

-- every link, now and at the last complete build (computed only when a link changed)
links as materialized (
    select person_key, patient_key from {{ ref('int_person_fingerprint') }}
    where exists (select 1 from changed)
    union
    select person_key, patient_key from previous_links
),

affected(person_key) as (
    select person_key from changed
    union
    select other.person_key
    from affected as a
    inner join links as own on own.person_key = a.person_key
    inner join links as other on other.patient_key = own.patient_key
)

select
    links.person_key,
    links.patient_key,
    {{ harmony_id('links.person_key') }} as person_hash,
    ids.id as person_id
from links
inner join affected on affected.person_key = links.person_key
left join {{ ref('id_person') }} as ids on ids.key_hash = {{ key_hash('links.person_key') }}
{%- endif %}
