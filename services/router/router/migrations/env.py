from router.db import Base
from router.registry import models as registry_models  # noqa: F401  (register the tables)
from router.routing import models  # noqa: F401
from shared.db import env_py_main

env_py_main(Base.metadata)
