"""Keyed pseudonyms and per-person date shifts (privacy.md promises 2 and 3).

HMAC-SHA256 under the network secret with a domain tag, so a pseudonym cannot be reversed or
linked without the key, and pseudonyms of different purposes (person vs date-shift) never coincide.
The key lives only in this process: it never enters SQL text, a database or a log.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

PERSON_DOMAIN = "person"
PATIENT_DOMAIN = "patient"
DATE_SHIFT_DOMAIN = "date-shift"


def _hmac_sha256(key: bytes):
    """HMAC-SHA256 (RFC 2104) with the keyed inner and outer states built once: per message only two
    hash copies, 2.6x faster than hmac.new per message (1M patients' deliveries take 4 million)."""
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def mac(message: bytes):  # a finished hash object: .digest() or .hexdigest()
        hashed = inner.copy()
        hashed.update(message)
        result = outer.copy()
        result.update(hashed.digest())
        return result

    return mac


def pseudonyms(key: bytes, domain: str, messages) -> np.ndarray:
    """Hex HMAC-SHA256 of the domain tag and each message (parts already joined by the unit separator)."""
    mac = _hmac_sha256(key)
    prefix = domain + "\x1f"
    return np.array([mac((prefix + m).encode("utf-8")).hexdigest() for m in messages], dtype=object)


def pseudonym(key: bytes, domain: str, *parts: str) -> str:
    """Hex HMAC-SHA256 of the domain tag and the parts (unit separator between them)."""
    return pseudonyms(key, domain, ["\x1f".join(parts)])[0]


def pseudonymise(key: bytes, domain: str, *columns: pd.Series) -> pd.Series:
    """Pseudonyms for aligned columns; each distinct combination is hashed once."""
    frame = pd.concat([c.astype("string").fillna("") for c in columns], axis=1)
    joined = frame.agg("\x1f".join, axis=1) if frame.shape[1] > 1 else frame.iloc[:, 0]
    codes, uniques = pd.factorize(joined)
    return pd.Series(pseudonyms(key, domain, uniques)[codes], index=joined.index, dtype="string")


def date_shift_days(key: bytes, person_keys: pd.Series, window: int) -> pd.Series:
    """Per-person shift in [-window, window] days, never 0, the same for a person everywhere."""
    codes, uniques = pd.factorize(person_keys)
    mac = _hmac_sha256(key)
    offsets = np.empty(len(uniques), dtype=np.int64)
    for i, person in enumerate(uniques):
        hashed = mac(f"{DATE_SHIFT_DOMAIN}\x1f{person}".encode()).digest()
        magnitude = int.from_bytes(hashed[:8], "big") % window + 1  # 1..window
        offsets[i] = magnitude if hashed[8] & 1 else -magnitude
    return pd.Series(offsets[codes], index=person_keys.index)


def patient_key(key: bytes, source_id: str, source_patient_id: str) -> str:
    """The patient_key of one source patient, as the contracts reader derives it.

    Same message as `pseudonymise(key, PATIENT_DOMAIN, source_ids, patient_ids)`: domain, source id
    and the source's own patient id joined by the unit separator. Used by `harmony pseudonym`.
    """
    return pseudonym(key, PATIENT_DOMAIN, str(source_id), str(source_patient_id))


# privacy.md promise 3: ages of 90 and over are top-coded (HIPAA Safe Harbor uses the same limit).
TOP_CODE_AGE = 90


def top_code_age(ages: pd.Series, limit: int = TOP_CODE_AGE) -> pd.Series:
    """Ages at or above `limit` become `limit` (read as "limit or older"); missing stays missing."""
    numeric = pd.to_numeric(ages, errors="coerce")
    return numeric.where(~(numeric >= limit), float(limit)).astype(numeric.dtype)
