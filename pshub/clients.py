"""API clients built from settings: the real systems when PSHUB_<SYSTEM>_URL is set, else the sandbox."""
from __future__ import annotations

from connectors.http import ApiClient
from connectors.kantata import KantataClient
from connectors.netsuite import NetSuiteClient
from connectors.salesforce import SalesforceClient
from pshub.settings import Settings, get_settings


def client_for(system: str, settings: Settings | None = None) -> ApiClient:
    settings = settings or get_settings()
    cfg = settings.system(system)
    timeout = settings.http_timeout_seconds
    if system == "salesforce":
        return SalesforceClient(cfg.base_url, cfg.credentials, api_version=settings.salesforce_api_version,
                                timeout=timeout)
    if system == "netsuite":
        return NetSuiteClient(cfg.base_url, cfg.credentials, concurrency=settings.netsuite_concurrency,
                              timeout=timeout)
    if system == "kantata":
        return KantataClient(cfg.base_url, cfg.credentials, timeout=timeout)
    raise KeyError(f"no client for {system!r}")
