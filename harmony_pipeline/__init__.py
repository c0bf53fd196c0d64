"""HARMONY pipeline: pooled blood-cancer cohorts to OMOP CDM v5.4, disease marts and audited access."""

__version__ = "0.1.0"
