"""Jobs on Azure Data Lake Analytics: SDK clients, idempotent submission, DR copies, an emulator.

Nothing here imports the Azure SDK at module import time; :mod:`usqlrw.jobs.client` loads it when
a client is first built. The emulator is its own package, :mod:`usqlrw.emulator` (``usqlrw.jobs.emulator`` is an alias).
"""
