"""SDK clients for ADLA jobs and catalog, pointed at the service, an emulator URL or an embedded emulator.

    clients = make_clients("http://127.0.0.1:8642", token_credentials("t"))
    clients.job.job.get("primaryadla", job_id)

The Azure SDK (azure-mgmt-datalake-analytics 0.6.0 on msrest) is imported here, and this module is
imported only when a jobs command runs. azure-identity is optional and imported only when no token
is given for the real service.

Credentials never reach output: :func:`redact` removes tokens, URL passwords and connection-string
secrets from any text shown to the user, and the SDK's HTTP logger (which would print bodies) is off.
"""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["DATA_LAKE_SCOPE", "ARM_SCOPE", "TOKEN_ENV", "ENDPOINT_ENV", "Endpoint", "AdlaClients",
           "resolve_endpoint", "make_clients", "credentials_for", "token_credentials", "default_credentials", "redact",
           "describe_error", "register_secret", "AzureIdentityCredentialAdapter"]

DATA_LAKE_SCOPE = "https://datalake.azure.net//.default"
ARM_SCOPE = "https://management.azure.com/.default"
TOKEN_ENV = "USQLRW_ADLA_TOKEN"          # a static bearer token, for automation
ENDPOINT_ENV = "USQLRW_ADLA_ENDPOINT"    # default for --endpoint
SCOPE_ENV = "USQLRW_ADLA_SCOPE"          # token scope for azure-identity
DEFAULT_DNS_SUFFIX = "azuredatalakeanalytics.net"

# -- secrets --------------------------------------------------------------------------------

from ..secrets import redact, register_secret  # noqa: E402  (re-exported: part of this module's API)


_NETWORK = [
    (re.compile(r"Connection refused"), "connection refused"),
    (re.compile(r"RemoteDisconnected|Connection aborted|closed connection without response"),
     "the connection was dropped without an answer"),
    (re.compile(r"(?i)read timed out|ReadTimeout"), "timed out waiting for an answer"),
    (re.compile(r"(?i)ConnectTimeout|connect timeout"), "timed out connecting"),
    (re.compile(r"Name or service not known|nodename nor servname|getaddrinfo failed|NameResolutionError"),
     "host name not found"),
    (re.compile(r"too many (\d{3}) error responses"), None),
]
_HOSTPORT = re.compile(r"host='([^']+)', port=(\d+)")


def _network_reason(msg: str) -> str | None:
    for pat, text in _NETWORK:
        m = pat.search(msg)
        if m:
            if text is None:
                return f"HTTP {m.group(1)} (the HTTP library's own retries used up)"
            hp = _HOSTPORT.search(msg)
            return f"{text} ({hp.group(1)}:{hp.group(2)})" if hp else text
    return None


def describe_error(exc: BaseException) -> str:
    """A one-line, secret-free description of an SDK or network error."""
    status = getattr(exc, "status_code", None)
    msg = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    msg = " ".join(str(msg).split())
    if status is None:
        reason = _network_reason(msg)
        if reason:
            return redact(f"network error: {reason}")
    code = None
    err = getattr(exc, "error", None)
    if err is not None:
        code = getattr(err, "error", None)
    rid = getattr(exc, "request_id", None)
    parts = []
    if status:
        parts.append(f"HTTP {status}")
    if code and isinstance(code, str):
        parts.append(code)
    out = (" ".join(parts) + ": " if parts else f"{type(exc).__name__}: ") + msg
    if rid:
        out += f" (request id {rid})"
    return redact(out)


# -- credentials ----------------------------------------------------------------------------

def token_credentials(token: str):
    """msrest credentials that send a fixed bearer token (from an environment variable, or a test)."""
    from msrest.authentication import BasicTokenAuthentication
    register_secret(token)
    return BasicTokenAuthentication({"access_token": token})


def _adapter_class():
    from msrest.authentication import BasicTokenAuthentication

    class _Adapter(BasicTokenAuthentication):
        """An azure-identity TokenCredential made into what msrest expects; refreshes before expiry."""

        def __init__(self, credential, scope: str = DATA_LAKE_SCOPE):
            super().__init__({"access_token": None})
            self._credential, self._scope, self._expires_on = credential, scope, 0
            self._lock = __import__("threading").Lock()

        def __repr__(self):
            return f"AzureIdentityCredentialAdapter(scope={self._scope!r})"

        def set_token(self):
            tok = self._credential.get_token(self._scope)
            register_secret(tok.token)
            self.token, self._expires_on = {"access_token": tok.token}, tok.expires_on

        def signed_session(self, session=None):
            with self._lock:
                if self.token.get("access_token") is None or time.time() > self._expires_on - 300:
                    self.set_token()
            return super().signed_session(session)

    return _Adapter


def AzureIdentityCredentialAdapter(credential, scope: str = DATA_LAKE_SCOPE):  # noqa: N802 (a class factory)
    """Wrap an azure-identity credential (``get_token(scope)``) for the msrest-based SDK."""
    return _adapter_class()(credential, scope)


def default_credentials(scope: str | None = None):
    """DefaultAzureCredential wrapped for msrest. azure-identity is optional: a clear error if missing."""
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError:
        raise RuntimeError("azure-identity is not installed: `pip install azure-identity`, or set "
                           f"{TOKEN_ENV} to a bearer token") from None
    return AzureIdentityCredentialAdapter(DefaultAzureCredential(),
                                          scope or os.environ.get(SCOPE_ENV) or DATA_LAKE_SCOPE)


# -- endpoints ------------------------------------------------------------------------------

@dataclass
class Endpoint:
    """Where jobs go: the real service (``url`` None), an emulator URL, or an embedded emulator."""
    url: str | None = None
    dns_suffix: str = DEFAULT_DNS_SUFFIX
    emulator: object = None      # the embedded Emulator, if usqlrw started one
    state_file: str | None = None
    template: str | None = None  # a service URL with {account} in it (sovereign clouds, proxies)

    @property
    def is_emulator(self) -> bool:
        return self.url is not None

    @property
    def base_url(self) -> str:
        """The SDK's base_url: {accountName} as a path prefix (emulator) or wherever the template says."""
        if self.template:
            return self.template.replace("{account}", "{accountName}")
        if self.url:
            return self.url + "/{accountName}"
        return "https://{accountName}." + self.dns_suffix

    @property
    def display(self) -> str:
        if self.emulator is not None:
            return f"embedded emulator ({self.state_file})"
        if self.template:
            return redact(self.template)
        return redact(self.url) if self.url else f"https://{{account}}.{self.dns_suffix}"

    def close(self):
        if self.emulator is not None:
            self.emulator.close()
            self.emulator = None


def _strip_userinfo(url: str) -> str:
    p = urlsplit(url)
    if p.username is None and p.password is None:
        return url.rstrip("/")
    host = p.hostname or ""
    if p.port:
        host += f":{p.port}"
    return urlunsplit((p.scheme, host, p.path, p.query, p.fragment)).rstrip("/")


def resolve_endpoint(value: str | None, state_dir: str | os.PathLike | None = None,
                     dns_suffix: str | None = None, state_file: str | None = None,
                     execute: bool = True) -> Endpoint:
    """``None``/empty: the service (``https://{account}.`` + ``dns_suffix``); a URL with ``{account}`` in
    it: the service there (``https://{account}.azuredatalakeanalytics.usgovcloudapi.net``); another
    ``http(s)://host:port``: an emulator there, the account as the first path segment;
    ``emulator``: start one whose state is the SQLite file ``state_file`` (default
    ``usqlrw-emulator.sqlite`` in ``state_dir``, else usqlrw.dirs.emulator_state()), which runs the
    jobs on the engine (``execute=False``: accepts them and marks them succeeded without running)."""
    value = (value if value is not None else os.environ.get(ENDPOINT_ENV) or "").strip()
    suffix = dns_suffix or DEFAULT_DNS_SUFFIX
    if not value or value.lower() in ("azure", "service"):
        return Endpoint(None, suffix)
    if value.lower() == "emulator":
        from ..emulator import Emulator
        if state_file:
            path = state_file
        elif state_dir is not None:
            path = str(Path(state_dir) / "usqlrw-emulator.sqlite")
        else:                       # not in the working tree: the user's state folder
            from ..dirs import emulator_state
            path = emulator_state()
        # jobs move on when read and also with the clock, so work left by one command has
        # finished when the next one looks
        emu = Emulator(path, step_seconds=2.0, execute=execute).start()
        return Endpoint(emu.url, suffix, emu, path)
    if not re.match(r"(?i)^https?://", value):
        raise ValueError(f"endpoint must be a URL (http://host:port), a URL with {{account}} in it, 'emulator' "
                         f"or empty, not {redact(value)!r}")
    if "{account}" in value or "{accountName}" in value:   # the service at another address
        return Endpoint(None, suffix, template=_strip_userinfo(value.replace("{accountName}", "{account}")))
    return Endpoint(_strip_userinfo(value), suffix)


def credentials_for(endpoint: Endpoint, scope: str | None = None):
    """The token in $USQLRW_ADLA_TOKEN; else a placeholder for an emulator; else DefaultAzureCredential
    (RuntimeError, before any request, when azure-identity is missing)."""
    tok = os.environ.get(TOKEN_ENV)
    if tok:
        return token_credentials(tok)
    if endpoint.is_emulator:
        return token_credentials("emulator-placeholder-token")
    return default_credentials(scope)


@dataclass
class AdlaClients:
    """The job and catalog clients (and the ARM account client, made on first use)."""
    job: object
    catalog: object
    endpoint: Endpoint
    credentials: object = field(repr=False, default=None)
    subscription_id: str | None = None
    _account: object = field(default=None, repr=False)

    @property
    def account(self):
        if self._account is None:
            from azure.mgmt.datalake.analytics.account import DataLakeAnalyticsAccountManagementClient
            base = self.endpoint.url or None
            c = DataLakeAnalyticsAccountManagementClient(self.credentials, self.subscription_id or "unknown",
                                                         base_url=base)
            _configure(c, self._retries)
            self._account = c
        return self._account

    _retries: int = 0


def _configure(client, retries: int, timeout: float | None = None):
    cfg = client.config
    cfg.retry_policy.retries = retries       # usqlrw retries itself, POSTs included (see submit.py)
    # with urllib3's own retries used up, hand back the answer (a CloudError with the service's code
    # and message) instead of a bare "too many 503 error responses"
    cfg.retry_policy.policy.raise_on_status = False
    cfg.long_running_operation_timeout = 0   # cancel answers 200/204; no 30 s sleeps
    cfg.enable_http_logger = False           # it would log request bodies
    if timeout:
        cfg.connection.timeout = timeout


def make_clients(endpoint: Endpoint | str | None, credentials=None, *, subscription_id: str | None = None,
                 retries: int = 0, timeout: float | None = 60, scope: str | None = None) -> AdlaClients:
    """Job and catalog clients for an endpoint. ``credentials``: msrest credentials; when None, the
    token in $USQLRW_ADLA_TOKEN, else a placeholder for an emulator, else DefaultAzureCredential."""
    from azure.mgmt.datalake.analytics.catalog import DataLakeAnalyticsCatalogManagementClient
    from azure.mgmt.datalake.analytics.job import DataLakeAnalyticsJobManagementClient
    if not isinstance(endpoint, Endpoint):
        endpoint = resolve_endpoint(endpoint)
    if credentials is None:
        credentials = credentials_for(endpoint, scope)
    job = DataLakeAnalyticsJobManagementClient(credentials, endpoint.dns_suffix)
    cat = DataLakeAnalyticsCatalogManagementClient(credentials, endpoint.dns_suffix)
    for c in (job, cat):
        if endpoint.url or endpoint.template:
            c.config.base_url = endpoint.base_url
        _configure(c, retries, timeout)
    out = AdlaClients(job, cat, endpoint, credentials, subscription_id)
    out._retries = retries
    return out
