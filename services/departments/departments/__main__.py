"""``python -m departments``: serve departments with uvicorn on ``LINKAGE_DEPARTMENTS_HOST``:``LINKAGE_DEPARTMENTS_PORT``."""

from departments.app import create_app
from departments.settings import DepartmentsSettings
from shared.serve import serve

if __name__ == "__main__":
    settings = DepartmentsSettings()
    serve(create_app(settings), settings)
