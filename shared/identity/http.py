"""FastAPI side of identities: ``Depends(require_roles(...))`` yields the calling :class:`Principal`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.identity.principal import Principal
from shared.identity.store import IdentityStore
from shared.problems import Forbidden, Unauthenticated

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer lk_…`")


async def current_principal(request: Request,
                            credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthenticated("Send an API key as `Authorization: Bearer <key>`.")
    store: IdentityStore = request.app.state.identity
    principal = await store.authenticate(credentials.credentials)
    if principal is None:
        raise Unauthenticated("Unknown or revoked API key.")
    return principal


def require_roles(*roles: str) -> Callable[..., Awaitable[Principal]]:
    async def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        if principal.role not in roles:
            raise Forbidden(f"Role {principal.role} may not do this; allowed: {', '.join(roles)}.")
        return principal

    return dependency
