-- The persons that enter the OMOP instance: those with a year of birth. The CDM requires it, and its
-- convention is explicit: "If no year of birth is available all the person's data should be dropped
-- from the CDM instance" (OMOP_CDMv5.4_Field_Level.csv, person.year_of_birth). Such persons (e.g. a
-- source whose patient row was quarantined) are listed with their records in ops.omop_excluded_records,
-- so nothing disappears unseen. A view: a filter of int_person, nothing to store.
{{ config(materialized='view') }}
select *
from {{ ref('int_person') }}
where year_of_birth is not null
