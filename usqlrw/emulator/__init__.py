"""A local Azure Data Lake Analytics REST emulator that the real SDK talks to over HTTP.

    emu = Emulator(accounts={"primaryadla": "primaryadls", "secondaryadla": "secondaryadls"}).start()
    ... point SDK clients at emu.account_url("{accountName}") (see usqlrw.jobs.client) ...
    emu.stop()

It serves several accounts at once, the account being the first path segment
(``http://127.0.0.1:PORT/{accountName}/jobs/...``), and the ARM account API under
``/subscriptions/...``. State lives in SQLite (``:memory:`` or a file shared by several runs).
It implements what azure-mgmt-datalake-analytics 0.6.0 sends: jobs (api-version
2017-09-01-preview) with create (idempotent PUT), get, list with ``$filter``/``$top``/``$skip``/
``$orderby`` and absolute ``nextLink`` paging, cancel and buildJob; pipelines and recurrences
(aggregated from the jobs' ``related`` properties, as the service does); the U-SQL catalog reads
(2016-11-01); and the account read (2016-11-01) that names the default Data Lake Store account.

Job life cycle: Accepted -> Compiling -> Queued -> Running -> Ended. A job moves one state each
time it is read (``GET /jobs/{id}``), and also with the clock when ``step_seconds`` is set, so
tests are deterministic and a watcher sees every state. The script is compiled with usqlrw's own
parser: one that does not parse ends Failed with the error in ``errorMessage`` as the service
reports compile errors. When a job succeeds, its DDL is applied to the emulated catalog in one
transaction; creating what exists (without IF NOT EXISTS) or dropping what does not fails the job
and changes nothing.

Each store account's folder is also served over WebHDFS, as the ``azure-datalake-store`` client
speaks it, under ``/_adls/{store}/webhdfs/v1/`` (see :mod:`.webhdfs`): what a client writes there
is what a job reads.

Faults can be injected (:meth:`Emulator.inject`, or ``POST /_emulator/faults``): an HTTP status
(429, 500, 503...), a slow answer, or a dropped connection, for matching requests. Every answer
carries ``x-ms-request-id``; errors have the body ``{"error": {"code", "message"}}``.
The emulator never records or prints request headers, so tokens do not leak into its logs.

Malformed requests get a 4xx JSON error and the server goes on: a bad request line, method or
HTTP version, a ``Content-Length`` that is not one number (or chunked bodies), bodies over
``max_body`` bytes (413, answered from the headers), bodies that are not JSON or are nested deeper
than :data:`MAX_JSON_DEPTH`, create-job fields of the wrong type, and bad fault or account
definitions. The control routes (``/_emulator/...``) take the same bearer token as the API. No
lock is held while a body is read or parsed or a script compiled, and a stored job document that is
not valid is left out of listings (and answered 500 on its own) instead of breaking them.
"""
from __future__ import annotations

from .faults import Fault
from .http import MAX_BODY_BYTES, MAX_JSON_DEPTH
from .jobs import Emulator, check_job_request
from .state import ACCOUNT_API_VERSION, CATALOG_API_VERSION, JOB_API_VERSION, STATES, ApiError

__all__ = ["Emulator", "Fault", "ApiError", "JOB_API_VERSION", "CATALOG_API_VERSION", "ACCOUNT_API_VERSION",
           "STATES", "MAX_BODY_BYTES", "MAX_JSON_DEPTH", "check_job_request"]
