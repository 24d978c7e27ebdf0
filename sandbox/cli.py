"""`pshub sandbox ...`: run the simulated Salesforce, NetSuite, Kantata and Dynamics 365 Finance, advance their clock, change faults."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Optional

import httpx
import typer

from sandbox.server import DEFAULT_PORTS, ENDPOINTS_FILE, SYSTEMS, SandboxServer

app = typer.Typer(help="Simulated Salesforce, NetSuite, Kantata and Dynamics 365 Finance over a synthetic consulting firm.",
                  no_args_is_help=True)


def default_data_dir() -> Path:
    if os.environ.get("PSHUB_SANDBOX_DIR"):
        return Path(os.environ["PSHUB_SANDBOX_DIR"])
    if os.environ.get("PSHUB_HOME"):
        return Path(os.environ["PSHUB_HOME"]) / "sandbox"
    return Path(".pshub/sandbox")


DataDir = typer.Option(None, "--data-dir", help="Folder holding the firm (default: $PSHUB_SANDBOX_DIR, "
                                                "else $PSHUB_HOME/sandbox, else .pshub/sandbox).")


def _running(data_dir: Path) -> dict | None:
    """endpoints.json of a sandbox that answers, or None."""
    try:
        ep = json.loads((data_dir / ENDPOINTS_FILE).read_text())
        httpx.get(ep["urls"]["salesforce"] + "/__sandbox/clock", timeout=2, verify=False).raise_for_status()
        return ep
    except (OSError, ValueError, KeyError, httpx.HTTPError):
        return None


class GenerationProgress:
    """A line on the terminal every few seconds while a firm is generated (minutes at medium scale): steps done of
    all, then tables and rows written of all; the last step always."""

    def __init__(self, every_seconds: float = 5.0):
        self.every, self._last = every_seconds, 0.0

    def __call__(self, progress: dict) -> None:
        from sandbox.generate import describe  # loaded already: only the generation calls this

        now = time.monotonic()
        if now - self._last < self.every and progress["done"] < progress["total"] and progress["done"] > 0:
            return
        self._last = now
        typer.echo(f"  {time.strftime('%H:%M:%S')}  {describe(progress)}")


def _parse_faults(items: list[str]) -> dict:
    """`salesforce.error_rate=0.1`, `rate_limit_rate=0.05` (all systems) -> nested dict."""
    out: dict = {}
    for item in items or []:
        key, _, value = item.partition("=")
        if not _:
            raise typer.BadParameter(f"expected KEY=VALUE, got {item!r}")
        system, _, name = key.rpartition(".")
        try:
            v = json.loads(value)
        except ValueError:
            v = value
        for s in ([system] if system else SYSTEMS):
            if s not in SYSTEMS:
                raise typer.BadParameter(f"unknown system {s!r}")
            out.setdefault(s, {})[name] = v
    return out


def _parse_routes(text: str) -> dict:
    from sandbox.dynamics_firm import parse_routes
    try:
        return parse_routes(text)
    except ValueError as exc:
        raise typer.BadParameter(f"--dynamics: {exc}") from None


SECRET_WORDS = ("secret", "token", "password", "key")


def _shown(name: str, value) -> str:
    """A credential as printed: names, ids and paths in full; a secret masked, since this output often goes to a log
    (the credentials themselves are in the endpoints file, mode 0600)."""
    if any(w in name.lower() for w in SECRET_WORDS) and not str(value).startswith("/") and not name.endswith("_path"):
        return "*" * 8 + f" (in {ENDPOINTS_FILE})"
    return str(value)


@app.command()
def serve(scale: str = typer.Option("demo", help="Size of the firm when generated: demo, medium or large."),
          seed: int = typer.Option(42, help="Random seed: the same seed gives the same firm."),
          data_dir: Optional[Path] = DataDir,
          faults: list[str] = typer.Option([], "--faults", help="Fault as [system.]name=value, repeatable, e.g. "
                                           "salesforce.daily_request_limit=1000, netsuite.concurrency_limit=5, error_rate=0.05."),
          latency_ms: int = typer.Option(0, "--latency-ms", help="Delay added to every API request."),
          certfile: Optional[Path] = typer.Option(None, help="TLS certificate (PEM): serve HTTPS."),
          keyfile: Optional[Path] = typer.Option(None, help="TLS private key (PEM) for --certfile."),
          token_ttl: int = typer.Option(3600, "--token-ttl", help="Seconds an access token stays valid."),
          host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
          salesforce_port: int = typer.Option(DEFAULT_PORTS["salesforce"], help="Salesforce port."),
          netsuite_port: int = typer.Option(DEFAULT_PORTS["netsuite"], help="NetSuite port."),
          kantata_port: int = typer.Option(DEFAULT_PORTS["kantata"], help="Kantata port."),
          dynamics_port: int = typer.Option(DEFAULT_PORTS["dynamics"], help="Dynamics 365 Finance port."),
          hubspot_port: int = typer.Option(DEFAULT_PORTS["hubspot"], help="HubSpot port."),
          dynamics: str = typer.Option("", "--dynamics", help="Legal entities whose books are in Dynamics 365 Finance "
                                       "instead of NetSuite, each from a cut-over date: UK, or UK@2026-06-01,DE. "
                                       "Applied when the firm is generated (or first served with it). Default: none."),
          psa: str = typer.Option("kantata", "--psa", help="Where the firm runs its delivery: kantata, or certinia "
                                  "(Certinia PSA's objects in the Salesforce org). Applied when the firm is generated "
                                  "(or first served with it)."),
          processes: bool = typer.Option(True, "--processes/--one-process",
                                         help="Serve each system from a process of its own (the default: "
                                              "concurrent readers use every core), or all from this one.")):
    """Generate the firm if the data folder has none, then serve the five APIs until Ctrl-C."""
    d = data_dir or default_data_dir()
    sb = SandboxServer(d, scale=scale, seed=seed, faults=_parse_faults(faults), host=host,
                       ports={"salesforce": salesforce_port, "netsuite": netsuite_port, "kantata": kantata_port,
                              "dynamics": dynamics_port, "hubspot": hubspot_port},
                       token_ttl_seconds=token_ttl, latency_ms=latency_ms, certfile=certfile, keyfile=keyfile,
                       progress=GenerationProgress(), processes=processes, dynamics_routes=_parse_routes(dynamics), psa=psa)
    sb.start()
    if sb.generation:
        typer.echo(f"generated a {scale} firm (seed {seed}) in {sb.generation['seconds']}s")
    typer.echo(f"data folder: {d.resolve()}")
    for s in SYSTEMS:
        typer.echo(f"\n{s}: {sb.urls[s]}")
        for k, v in sb.credentials[s].items():
            typer.echo(f"  {k}: {_shown(k, v)}")
    typer.echo(f"\nendpoints and credentials written to {d / ENDPOINTS_FILE} (readable by you only); Ctrl-C stops")
    sb.serve_forever()


@app.command()
def tick(days: int = typer.Option(1, "--days", min=1, max=366, help="Days to advance the firm's clock."),
         data_dir: Optional[Path] = DataDir):
    """Advance the firm's clock: business happens in all three systems for each day."""
    d = data_dir or default_data_dir()
    ep = _running(d)
    if ep:
        r = httpx.post(ep["urls"]["salesforce"] + "/__sandbox/tick", params={"days": days}, timeout=600, verify=False)
        r.raise_for_status()
        result = r.json()
    else:
        from sandbox.simulate import tick as do_tick
        from sandbox.store import Store
        store = Store(d)
        if not store.exists():
            raise typer.BadParameter(f"no firm in {d}; run `pshub sandbox serve` first", param_hint="--data-dir")
        result = do_tick(store, days)
    typer.echo(json.dumps(result, indent=2))


@app.command()
def faults(settings: list[str] = typer.Argument(None, help="[system.]name=value to set, e.g. kantata.rate_limit_rate=0.2; "
                                               "none: show the current faults."),
           data_dir: Optional[Path] = DataDir):
    """Show or change the faults of a running sandbox."""
    d = data_dir or default_data_dir()
    ep = _running(d)
    if not ep:
        raise typer.BadParameter(f"no running sandbox found in {d}", param_hint="--data-dir")
    changes = _parse_faults(settings or [])
    out = {}
    for s in SYSTEMS:
        url = ep["urls"][s] + "/__sandbox/faults"
        r = httpx.put(url, json=changes[s], verify=False) if s in changes else httpx.get(url, verify=False)
        if r.status_code >= 400:
            raise typer.BadParameter(r.text)
        out[s] = r.json()
    typer.echo(json.dumps(out, indent=2))


@app.command()
def manifest(data_dir: Optional[Path] = DataDir,
             kind: Optional[str] = typer.Option(None, help="Only this defect kind."),
             summary: bool = typer.Option(False, help="Counts per kind instead of every defect.")):
    """Print the manifest of the data defects planted in the firm (kind, rule, system, object, id)."""
    from sandbox.store import Store
    d = data_dir or default_data_dir()
    store = Store(d)
    if not store.exists():
        raise typer.BadParameter(f"no firm in {d}", param_hint="--data-dir")
    defects = [x for x in store.defects() if not kind or x["kind"] == kind]
    if summary:
        counts: dict = {}
        for x in defects:
            counts[x["kind"]] = counts.get(x["kind"], 0) + 1
        typer.echo(json.dumps(counts, indent=2))
    else:
        typer.echo(json.dumps(defects, indent=2))


if __name__ == "__main__":
    app()
