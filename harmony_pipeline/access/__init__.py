"""access stage: the access policy, the audited read-only query gateway and the hash-chained audit log."""

from harmony_pipeline.access.audit import AuditError
from harmony_pipeline.access.gateway import AccessRefused, AuditedConnection, QueryError, connect, query
from harmony_pipeline.access.policy import PolicyError, load_policy

__all__ = [
    "AccessRefused",
    "AuditError",
    "AuditedConnection",
    "PolicyError",
    "QueryError",
    "connect",
    "load_policy",
    "query",
]
