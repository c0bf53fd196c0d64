{# Rows whose combination of columns occurs more than once (dbt_utils.unique_combination_of_columns
   without the package: hub packages cannot be installed here). #}
{% test dbt_utils_free_unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
