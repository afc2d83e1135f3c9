"""Identities: API keys bound to principals with roles, shared by every service through one identity database
(``LINKAGE_AUTH_DATABASE_URL``)."""

from shared.identity.principal import DEPARTMENT_ROLES, ROLES, Principal, Role
from shared.identity.store import IdentityStore, IssuedKey

__all__ = ["DEPARTMENT_ROLES", "ROLES", "IdentityStore", "IssuedKey", "Principal", "Role"]
