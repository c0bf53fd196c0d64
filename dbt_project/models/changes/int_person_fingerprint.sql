-- A fingerprint of the raw rows of every link between a person and a source patient: how many rows and
-- a hash of their identities (entity, source, delivery, file, row number). A new, re-loaded or withdrawn
-- delivery changes the fingerprints of exactly the links it touches; int_changed_links compares them
-- with those of the last complete build. Raw tables only grow by whole deliveries (ingest), so row
-- identities suffice: values are not hashed.
-- A link belongs to one source (patient_key pseudonymises source and patient), so the sums of a source's
-- links are the source's sums (int_source_fingerprint): an incremental build fingerprints again only the
-- links of the sources whose sums differ (new, changed or gone sources) and keeps the others' rows.
-- Raw rows changed in place (not by ingest) are rebuilt by the rebuild job (a full refresh), as before.
-- depends_on: {{ ref('int_source_fingerprint') }}
{{ config(materialized='incremental', unique_key='source_id', incremental_strategy='replace_sources',
          fingerprints_of='int_source_fingerprint') }}
select source_id, person_key, patient_key, count(*) as n_rows, sum(row_hash) as fingerprint
from ({{ raw_row_identities() }}) as raw_rows
{%- if is_incremental() %}
where source_id in ({{ stale_sources(this, ref('int_source_fingerprint')) }})
{%- endif %}
group by source_id, person_key, patient_key
