"""Credentials for the SDK: a static token, the azure-identity adapter, and the redaction of secrets."""
from __future__ import annotations

import sys
import time
from collections import namedtuple
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "jobs"))
from jobsupport import PRIMARY, PRIMARY_STORE, create_params, new_id  # noqa: E402

from usqlrw.cli import cli  # noqa: E402
from usqlrw.jobs.client import (AzureIdentityCredentialAdapter, default_credentials, describe_error,  # noqa: E402
                                make_clients, redact, resolve_endpoint, token_credentials)
from usqlrw.jobs.emulator import Emulator  # noqa: E402

AccessToken = namedtuple("AccessToken", "token expires_on")   # the shape azure-core's AccessToken has


class FakeCredential:
    """Behaves like an azure-identity TokenCredential: get_token(scope) -> AccessToken."""

    def __init__(self, lifetime: float):
        self.lifetime, self.calls, self.scopes = lifetime, 0, []

    def get_token(self, *scopes, **kw):
        self.calls += 1
        self.scopes += scopes
        return AccessToken(f"fake-aad-token-{self.calls}", int(time.time() + self.lifetime))


@pytest.fixture
def strict_emulator():
    emu = Emulator(accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60, expected_token="fake-aad-token-1").start()
    try:
        yield emu
    finally:
        emu.close()


def test_azure_identity_adapter_gets_a_token_once_and_sends_it(strict_emulator):
    cred = FakeCredential(lifetime=3600)
    clients = make_clients(strict_emulator.url, AzureIdentityCredentialAdapter(cred))
    jid = new_id()
    clients.job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);"))
    clients.job.job.get(PRIMARY, jid)
    assert cred.calls == 1 and cred.scopes == ["https://datalake.azure.net//.default"]
    assert "fake-aad-token" not in repr(clients.credentials)


def test_azure_identity_adapter_refreshes_a_token_about_to_expire():
    cred = FakeCredential(lifetime=60)   # inside the 5-minute margin: refreshed before each request
    with Emulator(accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60) as emu:
        clients = make_clients(emu.url, AzureIdentityCredentialAdapter(cred, "https://management.azure.com/.default"))
        for _ in range(3):
            list(clients.job.job.list(PRIMARY))
    assert cred.calls == 3 and set(cred.scopes) == {"https://management.azure.com/.default"}


def test_a_wrong_token_is_refused_and_the_error_shows_no_token(strict_emulator):
    from msrestazure.azure_exceptions import CloudError
    clients = make_clients(strict_emulator.url, token_credentials("wrong-token-abcdef"))
    with pytest.raises(CloudError) as e:
        list(clients.job.job.list(PRIMARY))
    msg = describe_error(e.value)
    assert msg.startswith("HTTP 401 AuthenticationFailed") and "wrong-token" not in msg


def test_static_token_from_the_environment(strict_emulator, tmp_path):
    script = tmp_path / "a.usql"
    script.write_text("@a = SELECT * FROM (VALUES (1)) AS T(x);\n")
    r = CliRunner().invoke(cli, ["submit", "--endpoint", strict_emulator.url, "-a", PRIMARY, "--no-ledger",
                                 str(script)], env={"USQLRW_ADLA_TOKEN": "fake-aad-token-1"})
    assert r.exit_code == 0, r.stdout + r.stderr
    r = CliRunner().invoke(cli, ["submit", "--endpoint", strict_emulator.url, "-a", PRIMARY, "--no-ledger",
                                 "--run-key", "2", str(script)], env={"USQLRW_ADLA_TOKEN": "not-the-token-xyz"})
    assert r.exit_code == 1 and "HTTP 401" in r.stdout and "not-the-token-xyz" not in r.stdout + r.stderr


def test_without_azure_identity_the_error_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    with pytest.raises(RuntimeError, match="pip install azure-identity.*USQLRW_ADLA_TOKEN"):
        default_credentials()


def test_endpoints():
    assert resolve_endpoint("").url is None
    assert resolve_endpoint("http://u:pw@127.0.0.1:8642/").url == "http://127.0.0.1:8642"
    with pytest.raises(ValueError, match=r"\*\*\*"):
        resolve_endpoint("ftp://u:topsecret@host")
    assert "topsecret" not in str(pytest.raises(ValueError, resolve_endpoint, "ftp://u:topsecret@host").value)


@pytest.mark.parametrize("text, secret", [
    ("Server=tcp:x;User ID=u;Password=hunter2;", "hunter2"),
    ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc123==;", "abc123=="),
    ("https://a.blob.core.windows.net/c?sv=2020&sig=SiGnAtUrE%3D&se=1", "SiGnAtUrE%3D"),
    ("Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOi.payload.sig", "eyJ0eXAiOiJKV1QiLCJhbGciOi"),
    ("http://admin:s3cr3t@host:1/x", "s3cr3t"),
    ('PROVIDER_STRING = "Database=x;Pwd=\'q w e\'"', "q w e"),
])
def test_redact(text, secret):
    assert secret not in redact(text)


def test_job_ran_with_time_based_steps():
    with Emulator(accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60, step_seconds=0.001) as emu:
        clients = make_clients(emu.url, token_credentials("t0k3n"))
        jid = new_id()
        clients.job.job.create(PRIMARY, jid, create_params("@a = SELECT * FROM (VALUES (1)) AS T(x);"))
        time.sleep(0.05)   # far more than the five steps need
        info = clients.job.job.list(PRIMARY).next()
        assert info.state.value == "Ended" and info.result.value == "Succeeded"


def test_no_credentials_for_the_real_service_fails_before_any_request(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "azure.identity", None)
    monkeypatch.delenv("USQLRW_ADLA_TOKEN", raising=False)
    monkeypatch.delenv("USQLRW_ADLA_ENDPOINT", raising=False)
    script = tmp_path / "a.usql"
    script.write_text("@a = SELECT * FROM (VALUES (1)) AS T(x);\n")
    r = CliRunner().invoke(cli, ["submit", "-a", "realaccount", "--ledger", str(tmp_path / "l.jsonl"), str(script)])
    assert r.exit_code == 1 and "pip install azure-identity" in r.stderr
    assert not (tmp_path / "l.jsonl").exists()


def test_endpoint_templates_for_sovereign_clouds(monkeypatch):
    gov = resolve_endpoint("https://{account}.azuredatalakeanalytics.usgovcloudapi.net")
    assert not gov.is_emulator and gov.base_url == "https://{accountName}.azuredatalakeanalytics.usgovcloudapi.net"
    assert resolve_endpoint("", dns_suffix="example.cn").base_url == "https://{accountName}.example.cn"
    # a template is the service: no placeholder token; with a token it reaches wherever it points
    monkeypatch.setenv("USQLRW_ADLA_TOKEN", "fake-aad-token-1")
    with Emulator(accounts={PRIMARY: PRIMARY_STORE}, max_lifetime=60, expected_token="fake-aad-token-1") as emu:
        clients = make_clients(resolve_endpoint(emu.url + "/{account}"))
        assert clients.job.config.base_url == emu.url + "/{accountName}"
        assert list(clients.job.job.list(PRIMARY)) == []
