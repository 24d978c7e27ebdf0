"""Settings, read from the environment (PSHUB_*) once per process.

Secrets (client secrets, private keys, database passwords) come only from the environment and are held as
SecretStr, so that they never print in a repr, a log line or an exception.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: retrying cannot help; the message names what to set."""


# The project checkout: the folder holding dbt_project.yml beside the pshub package (or PSHUB_PROJECT_DIR).
def project_dir() -> Path | None:
    for candidate in (os.environ.get("PSHUB_PROJECT_DIR"), Path(__file__).resolve().parent.parent):
        if candidate and (Path(candidate) / "dbt_project.yml").is_file():
            return Path(candidate).resolve()
    return None


# The CRM and PSA pairs the hub supports end to end (landed, modelled into the same marts, written back to), each
# with NetSuite (and Dynamics 365 Finance for the entities routed to it), and how to run each one's demo.
SUPPORTED_STACKS: dict[tuple[str, str], str] = {
    ("salesforce", "kantata"): "make demo",
    ("hubspot", "kantata"): "make demo CRM=hubspot",
    ("salesforce", "certinia"): "make demo PSA=certinia",
    ("hubspot", "certinia"): "make demo CRM=hubspot PSA=certinia",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PSHUB_", extra="ignore")

    home: Path | None = Field(default=None, description="data folder: embedded warehouse, sandbox, run files; "
                                                        "unset = .pshub in the project checkout")
    database_url: SecretStr | None = Field(
        default=None, description="external PostgreSQL 14+; unset = the embedded warehouse in PSHUB_HOME")
    reporting_currency: str = "USD"
    warehouse_listen: str | None = Field(
        default=None, description="ADDRESS[:PORT]: the embedded warehouse also listens there, TLS only "
                                  "(analysts' logins; the hub's own login stays on this machine)")

    # Source and destination systems. Unset URL = the local sandbox (its endpoints.json).
    salesforce_url: str | None = None
    salesforce_client_id: str | None = None
    salesforce_client_secret: SecretStr | None = None
    # JWT bearer flow instead (a connected app with a certificate): the pre-approved user and the certificate's key
    salesforce_username: str | None = None
    salesforce_private_key: SecretStr | None = Field(default=None, description="PEM text of the connected app's key")
    salesforce_private_key_path: Path | None = None
    salesforce_login_url: str | None = Field(default=None, description="the JWT audience: https://login.salesforce"
                                             ".com (default) or https://test.salesforce.com for a sandbox org")
    salesforce_api_version: str = "v62.0"
    salesforce_concurrency: int = 4  # collection calls in flight at once

    netsuite_url: str | None = None
    netsuite_client_id: str | None = None
    netsuite_certificate_id: str | None = None
    netsuite_private_key: SecretStr | None = Field(default=None, description="PEM text of the EC/RSA key")
    netsuite_private_key_path: Path | None = None
    netsuite_concurrency: int = 5

    kantata_url: str | None = None
    kantata_token: SecretStr | None = Field(
        default=None, description="access token (Kantata's do not expire); `pshub kantata authorize` gets one")
    # the registered OAuth application, for the one-time authorization-code exchange only
    kantata_client_id: str | None = None
    kantata_client_secret: SecretStr | None = None
    kantata_redirect_uri: str | None = None
    kantata_oauth_url: str = Field(default="https://app.mavenlink.com",
                                   description="where /oauth/authorize and /oauth/token are (the sandbox: its URL)")

    # Dynamics 365 Finance: the environment's URL (https://<env>.operations.dynamics.com) and an app registration of
    # the Microsoft Entra tenant with a client secret (client credentials; the app is also added in Finance)
    dynamics_url: str | None = None
    dynamics_tenant_id: str | None = None
    dynamics_client_id: str | None = None
    dynamics_client_secret: SecretStr | None = None
    dynamics_token_url: str | None = Field(default=None, description="the token endpoint; unset = https://login."
                                           "microsoftonline.com/<tenant>/oauth2/v2.0/token")
    dynamics_enabled: bool = Field(default=False, description="land Dynamics 365 Finance too (some legal entity "
                                   "posts to it); off: the hub reads NetSuite only")
    dynamics_page_size: int = 5000
    # Routes on top of the erp_routing seed, "ENTITY=netsuite|dynamics:COMPANY[@YYYY-MM-DD],..." (dbt macro
    # erp_routing): for a trial or `pshub demo --dynamics`; a firm's routing belongs in the seed
    erp_routing: str = Field(default="", description="routes on top of the erp_routing seed: "
                             "ENTITY=netsuite|dynamics:COMPANY[@YYYY-MM-DD],... (a trial, the demo)")

    # HubSpot: the API's URL (https://api.hubapi.com) and a private app's access token (Bearer; it does not expire)
    hubspot_url: str | None = None
    hubspot_access_token: SecretStr | None = Field(default=None, description="the private app's access token "
                                                   "(Settings > Integrations > Private apps)")

    # The CRM this installation sells in: the ingest lands it, the CRM role models read it. With the PSA, one of
    # SUPPORTED_STACKS (checked below: an unsupported pair is a one-line error, before anything runs)
    crm: str = Field(default="salesforce", description="salesforce or hubspot")
    # The PSA this installation delivers in: Kantata, or Certinia PSA (its pse__ objects in the Salesforce org, read
    # and written with the Salesforce settings); the ingest lands it, the PSA role models read it
    psa: str = Field(default="kantata", description="kantata or certinia")

    # Or the secrets from Prefect Secret blocks, by name (used when the secret itself is not set)
    salesforce_client_secret_block: str | None = None
    netsuite_private_key_block: str | None = None
    kantata_token_block: str | None = None
    dynamics_client_secret_block: str | None = None
    hubspot_access_token_block: str | None = None

    http_timeout_seconds: float = 60.0

    # Reverse ETL safety stop, by kind (only once the sync manages at least sync_guard_min_records): a plan changing
    # more than sync_max_share of the records a sync manages is refused unless confirmed (a mass update); new
    # records are growth, refused past sync_max_growth times what it manages.
    sync_max_share: float = 0.5
    sync_max_growth: float = 2.0
    sync_guard_min_records: int = 100
    # How many syncs the sync flow applies at once, each on a warehouse connection of its own: a sync starts once the
    # syncs it reads from finished (reverse_etl.syncs.Sync.after), and never beside another sync of the same
    # destination (so that a destination's own limit, e.g. netsuite_concurrency, holds). 1: one after the other, in
    # the declared order.
    sync_concurrency: int = Field(default=3, ge=1, description="syncs applied at once by the sync flow (each on its "
                                  "own warehouse connection, after the syncs it reads from, never two of the same "
                                  "destination); 1 = one after the other, in the declared order")

    @model_validator(mode="after")
    def _supported_stack(self) -> "Settings":
        psa = getattr(self, "psa", "kantata")  # PSHUB_PSA: Kantata unless the installation says otherwise
        if (self.crm, psa) not in SUPPORTED_STACKS:
            known = ", ".join(f"{c}+{p}" for c, p in SUPPORTED_STACKS)
            if self.crm not in {c for c, _p in SUPPORTED_STACKS}:
                what = f"PSHUB_CRM={self.crm!r} is not a CRM the hub knows"
            else:
                what = f"PSHUB_CRM={self.crm} with PSHUB_PSA={psa} is not supported yet"
            raise ConfigurationError(f"{what}; supported CRM+PSA: {known} (each with NetSuite; `pshub demo --help` "
                                     "says how to run each)")
        return self

    @property
    def home_dir(self) -> Path:
        """PSHUB_HOME, or .pshub in the project checkout whatever the working directory (never a second warehouse
        in whichever folder a command happens to run from)."""
        if self.home is not None:
            return self.home.expanduser().resolve()
        project = project_dir()
        if project is None:
            raise ConfigurationError(
                "PSHUB_HOME is not set and pshub is not installed from its project checkout, so there is no default "
                "data folder: set PSHUB_HOME to the folder for the warehouse, sandbox and run files")
        return project / ".pshub"

    @property
    def default_systems(self) -> list[str]:
        """The systems an ingest lands when none is named: the installation's CRM (PSHUB_CRM) and PSA (PSHUB_PSA),
        and Dynamics 365 Finance only when some legal entity posts to it (PSHUB_DYNAMICS_ENABLED)."""
        return [self.crm, self.psa, "netsuite"] + (["dynamics"] if self.dynamics_enabled else [])

    @property
    def pgdata_dir(self) -> Path:
        return self.home_dir / "pgdata"

    @property
    def sandbox_dir(self) -> Path:
        return self.home_dir / "sandbox"

    def system(self, name: str) -> "SystemConfig":
        """Base URL and credentials of one system: from PSHUB_<SYSTEM>_* or, unset, the local sandbox. Certinia
        lives in the Salesforce org: its settings are Salesforce's."""
        if name == "certinia":
            name = "salesforce"
        url = getattr(self, f"{name}_url")
        if url:
            creds = {k: getattr(self, f"{name}_{k}") for k in _CREDENTIAL_FIELDS[name]}
            creds = {k: (v.get_secret_value() if isinstance(v, SecretStr) else v) for k, v in creds.items()}
            key_path = getattr(self, f"{name}_private_key_path", None)
            for field in _SECRET_FIELDS[name]:
                block = getattr(self, f"{name}_{field}_block")
                if not creds.get(field) and block and not (field == "private_key" and key_path):
                    creds[field] = secret_block(block, f"PSHUB_{name.upper()}_{field.upper()}_BLOCK")
            if name in ("netsuite", "salesforce") and not creds.get("private_key") and key_path:
                creds["private_key"] = Path(key_path).read_text()
            return SystemConfig(name=name, base_url=url.rstrip("/"), credentials=creds, sandbox=False)
        return sandbox_system(self.sandbox_dir, name)


_SECRET_FIELDS = {"salesforce": ("client_secret",), "netsuite": ("private_key",), "kantata": ("token",),
                  "dynamics": ("client_secret",), "hubspot": ("access_token",)}


def secret_block(name: str, setting: str) -> str:
    """The value of a Prefect Secret block (prefect.blocks.system.Secret: `Secret.load(name).get()`, docs.prefect.io
    API reference). Prefect is imported only when a block is named."""
    from prefect.blocks.system import Secret

    try:
        return Secret.load(name).get()
    except ValueError as exc:  # Prefect: "Unable to find block document named ..."
        raise ConfigurationError(f"{setting} names the Prefect Secret block {name!r}, which could not be loaded "
                                 f"({str(exc).splitlines()[0][:120]}): create it, or set the secret itself") from None


_CREDENTIAL_FIELDS = {
    "salesforce": ("client_id", "client_secret", "username", "private_key", "login_url"),
    "netsuite": ("client_id", "certificate_id", "private_key"),
    "kantata": ("token", "client_id", "client_secret", "redirect_uri"),
    "dynamics": ("tenant_id", "client_id", "client_secret", "token_url"),
    "hubspot": ("access_token",),
}


class SystemConfig:
    def __init__(self, name: str, base_url: str, credentials: dict, sandbox: bool):
        self.name, self.base_url, self.credentials, self.sandbox = name, base_url, credentials, sandbox

    def __repr__(self) -> str:  # never the credentials
        return f"SystemConfig({self.name!r}, {self.base_url!r}, sandbox={self.sandbox})"


class SandboxNotRunning(ConfigurationError):
    pass


HOME_FOLDERS = ("prefect", "logs", "dbt")


def ensure_home(settings: "Settings") -> Path:
    """The home and the folders every command writes into exist (for any PSHUB_HOME, embedded warehouse or not)."""
    home = settings.home_dir
    for folder in HOME_FOLDERS:
        (home / folder).mkdir(parents=True, exist_ok=True)
    return home


def redact_url(url: str) -> str:
    """A URL as it may be printed: any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def sandbox_system(sandbox_dir: Path, name: str) -> SystemConfig:
    endpoints = sandbox_dir / "endpoints.json"
    if not endpoints.exists():
        raise SandboxNotRunning(
            f"PSHUB_{name.upper()}_URL is not set and no sandbox runs in {sandbox_dir}: "
            "start one with `pshub sandbox serve`, or set PSHUB_{0}_URL and its credentials.".format(name.upper()))
    info = json.loads(endpoints.read_text())
    if name not in info.get("urls", {}):
        raise SandboxNotRunning(f"the sandbox running in {sandbox_dir} has no {name}: restart it (`pshub sandbox "
                                f"serve`) with this version, or set PSHUB_{name.upper()}_URL and its credentials.")
    creds = dict(info["credentials"][name])
    if name == "netsuite" and "private_key_path" in creds:
        creds["private_key"] = Path(creds.pop("private_key_path")).read_text()
    return SystemConfig(name=name, base_url=info["urls"][name], credentials=creds, sandbox=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
