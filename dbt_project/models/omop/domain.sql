with domains as (select * from {{ ref('vocab_domain') }})
{{ omop_select('domains', order_by='domain_id') }}
