"""``python -m intake``: serve intake with uvicorn on ``LINKAGE_INTAKE_HOST``:``LINKAGE_INTAKE_PORT``."""

from intake.app import create_app
from intake.settings import IntakeSettings
from shared.serve import serve

if __name__ == "__main__":
    settings = IntakeSettings()
    serve(create_app(settings), settings)
