with classes as (select * from {{ ref('vocab_concept_class') }})
{{ omop_select('classes', order_by='concept_class_id') }}
