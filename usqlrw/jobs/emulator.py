"""The ADLA emulator, now the package :mod:`usqlrw.emulator` (HTTP, jobs, catalog, stores); this
name stays importable for the code and scripts that used it."""
from ..emulator import *  # noqa: F401,F403
from ..emulator import __all__  # noqa: F401
