"""Every distinct karyotype string of stg_cytogenetics, read by the ISCN parser.

The parser lives in harmony_pipeline/karyotype.py (Schanz 2012 categories, ELN flags, Breems 2008
monosomal karyotype); each distinct string is parsed once, so the cost grows with distinct karyotypes,
not with patients. Incremental: a build parses only the strings of the changed patients
(int_changed_links) not parsed before (a string's reading never changes; a parser change needs a full
refresh, which the pipeline runs when the code changes).
"""

import dataclasses

import pandas as pd

# pandas nullable dtypes so the table has the same column types when there is nothing to parse
_DTYPES = {"str": "string", "str | None": "string", "bool": "boolean", "int": "Int64", "int | None": "Int64"}


def model(dbt, session):
    from harmony_pipeline.karyotype import Karyotype, parse_many

    dbt.config(materialized="incremental", incremental_strategy="append")
    cytogenetics = dbt.ref("stg_cytogenetics").filter("method = 'karyotype' and karyotype is not null")
    if dbt.is_incremental:
        # a new string can only come from a changed patient: read only theirs, not the whole view
        changed = dbt.ref("int_changed_links").project("patient_key")
        cytogenetics = cytogenetics.join(changed, "patient_key", how="semi")
    strings = cytogenetics.project("karyotype").distinct()
    if dbt.is_incremental:  # (except_ keeps duplicates: EXCEPT ALL, hence distinct first)
        strings = strings.except_(session.sql(f"select karyotype from {dbt.this}"))
    strings = strings.order("karyotype").df()["karyotype"].tolist()
    dtypes = {f.name: _DTYPES.get(str(f.type), "string") for f in dataclasses.fields(Karyotype)}
    dtypes["abnormalities"] = "string"
    frame = pd.DataFrame(parse_many(strings), columns=list(dtypes)).astype(dtypes)
    # join key: the string exactly as delivered (the parser normalises spaces in its own copy)
    frame["text"] = pd.Series(strings, dtype="string")
    return frame.rename(columns={"text": "karyotype"})
