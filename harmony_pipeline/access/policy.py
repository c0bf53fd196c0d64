"""The access policy: named users, their role, and research projects each allowed a set of marts."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from harmony_pipeline.settings import Settings

POLICY_ENV = "HARMONY_ACCESS_POLICY"
BUILTIN_POLICY = Path(__file__).resolve().parent / "policy.yml"
ROLES = ("analyst", "data_steward", "data_engineer")


class PolicyError(ValueError):
    """The policy file itself is missing or malformed."""


@dataclass(frozen=True)
class User:
    user_id: str
    name: str
    role: str
    projects: tuple[str, ...]


@dataclass(frozen=True)
class Project:
    project_id: str
    description: str
    mart_patterns: tuple[str, ...]

    def allows(self, table: str) -> bool:
        return any(fnmatch.fnmatchcase(table, pattern) for pattern in self.mart_patterns)


@dataclass(frozen=True)
class Policy:
    path: Path
    users: dict[str, User]
    projects: dict[str, Project]


def policy_path(settings: Settings) -> Path:
    """$HARMONY_ACCESS_POLICY, else $HARMONY_HOME/access/policy.yml if present, else the demo policy."""
    override = os.environ.get(POLICY_ENV)
    if override:
        return Path(override)
    site = settings.home / "access" / "policy.yml"
    return site if site.is_file() else BUILTIN_POLICY


def load_policy(settings: Settings, path: Path | None = None) -> Policy:
    path = path or policy_path(settings)
    if not path.is_file():
        raise PolicyError(f"access policy {path} does not exist")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"access policy {path} is not valid YAML: {exc}") from exc
    projects: dict[str, Project] = {}
    for project_id, spec in (raw.get("projects") or {}).items():
        marts = (spec or {}).get("marts")
        if not isinstance(marts, list) or not all(isinstance(m, str) and m for m in marts):
            raise PolicyError(f"{path}: project {project_id!r} needs a list of marts")
        projects[str(project_id)] = Project(str(project_id), str(spec.get("description", "")), tuple(marts))
    users: dict[str, User] = {}
    for user_id, spec in (raw.get("users") or {}).items():
        spec = spec or {}
        role = spec.get("role")
        if role not in ROLES:
            raise PolicyError(
                f"{path}: user {user_id!r} has role {role!r}; expected one of {', '.join(ROLES)}"
            )
        member_of = tuple(str(p) for p in spec.get("projects") or [])
        unknown = [p for p in member_of if p not in projects]
        if unknown:
            raise PolicyError(f"{path}: user {user_id!r} is in unknown project(s) {', '.join(unknown)}")
        users[str(user_id)] = User(str(user_id), str(spec.get("name", user_id)), role, member_of)
    if not users:
        raise PolicyError(f"{path}: no users")
    return Policy(path=path, users=users, projects=projects)
