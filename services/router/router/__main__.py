"""``python -m router``: serve the router with uvicorn on ``LINKAGE_ROUTER_HOST``:``LINKAGE_ROUTER_PORT``."""

from router.app import create_app
from router.settings import RouterSettings
from shared.serve import serve

if __name__ == "__main__":
    settings = RouterSettings()
    serve(create_app(settings), settings)
