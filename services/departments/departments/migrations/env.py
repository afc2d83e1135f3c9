from departments.db import Base
from departments.tickets import models  # noqa: F401  (register the tables)
from shared.db import env_py_main

env_py_main(Base.metadata)
