-- Fails (returns rows) when a DataQualityDashboard check of fatal severity fails: the OMOP instance is
-- then not fit for the marts (Dagster shows this test as a blocking asset check on ops.dq_results).
select check_name, "table", field, violated_rows, violated_pct, threshold_pct
from {{ ref('dq_results') }}
where severity = 'fatal' and not passed
