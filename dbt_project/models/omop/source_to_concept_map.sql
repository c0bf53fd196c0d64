-- How our canonical codes map to concepts (HARMONY_* vocabularies, ICD10, ICDO3).
with stcm as (select * from {{ ref('vocab_source_to_concept_map') }})
{{ omop_select('stcm', order_by='source_vocabulary_id, source_code') }}
