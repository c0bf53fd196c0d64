with vocabularies as (select * from {{ ref('vocab_vocabulary') }})
{{ omop_select('vocabularies', order_by='vocabulary_id') }}
