-- OMOP CDM v5.4 note: no source delivers these data; the table exists, empty, with the spec's columns.
{{ omop_empty_table() }}
