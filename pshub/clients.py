"""API clients built from settings: the real systems when PSHUB_<SYSTEM>_URL is set, else the sandbox."""
from __future__ import annotations

from connectors import catalog
from connectors.dynamics import DynamicsClient
from connectors.http import ApiClient
from connectors.hubspot import HubSpotClient
from connectors.kantata import KantataClient
from connectors.netsuite import NetSuiteClient
from connectors.salesforce import SalesforceClient
from pshub.settings import Settings, get_settings


def client_for(system: str, settings: Settings | None = None) -> ApiClient:
    settings = settings or get_settings()
    cfg = settings.system(system)
    timeout = settings.http_timeout_seconds
    if system in ("salesforce", "certinia"):  # Certinia PSA's objects are in the Salesforce org
        return SalesforceClient(cfg.base_url, cfg.credentials, api_version=settings.salesforce_api_version,
                                timeout=timeout)
    if system == "netsuite":
        return NetSuiteClient(cfg.base_url, cfg.credentials, concurrency=settings.netsuite_concurrency,
                              timeout=timeout)
    if system == "kantata":
        return KantataClient(cfg.base_url, cfg.credentials, timeout=timeout)
    if system == "dynamics":
        return DynamicsClient(cfg.base_url, cfg.credentials, page_size=settings.dynamics_page_size, timeout=timeout,
                              keys=catalog.DYNAMICS_KEYS, integer_keys=catalog.DYNAMICS_INTEGER_KEYS)
    if system == "hubspot":
        return HubSpotClient(cfg.base_url, cfg.credentials, timeout=timeout)
    raise KeyError(f"no client for {system!r}")
