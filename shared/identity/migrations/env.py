from shared.db import env_py_main
from shared.identity.models import IdentityBase

env_py_main(IdentityBase.metadata)
