"""The deployments of prefect.yaml as Prefect runner deployments, for `pshub serve`.

prefect.yaml stays the one place where schedules and parameters are declared: `prefect deploy` reads it for a
server with a work pool, and `pshub serve` reads it here to serve the same deployments in one process.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import sqlalchemy
import yaml
from prefect.client.schemas.objects import ConcurrencyLimitConfig
from prefect.flows import load_flow_from_entrypoint
import prefect.runner.runner as prefect_runner
from prefect.runner import Runner
from prefect.schedules import Cron, Interval, RRule

from pshub.prefect_api import announce_server, answers, withdraw_server


def _schedule(spec: dict):
    common = {"timezone": spec.get("timezone"), "active": spec.get("active", True)}
    if "cron" in spec:
        return Cron(spec["cron"], day_or=spec.get("day_or", True), **common)
    if "interval" in spec:
        return Interval(dt.timedelta(seconds=float(spec["interval"])), **common)
    if "rrule" in spec:
        return RRule(spec["rrule"], **common)
    raise ValueError(f"a schedule needs cron, interval or rrule: {spec}")


def concurrency_limit(spec) -> ConcurrencyLimitConfig | int | None:
    """prefect.yaml's `concurrency_limit` (a number, or {limit, collision_strategy: ENQUEUE | CANCEL_NEW}), as
    `prefect deploy` reads it (prefect.cli.deploy: concurrency_limit.collision_strategy)."""
    if spec is None or isinstance(spec, int):
        return spec
    return ConcurrencyLimitConfig(limit=spec["limit"], collision_strategy=spec.get("collision_strategy", "ENQUEUE"))


def load(path: Path) -> list[dict]:
    return (yaml.safe_load(Path(path).read_text()) or {}).get("deployments") or []


def runner_deployments(path: Path, only: list[str] | None = None) -> list:
    """One RunnerDeployment per deployment of the file (entrypoints relative to the file's folder)."""
    path = Path(path).resolve()
    specs = load(path)
    if only:
        unknown = set(only) - {d["name"] for d in specs}
        if unknown:
            raise KeyError(f"no deployment named {', '.join(sorted(unknown))} in {path}; "
                           f"known: {', '.join(d['name'] for d in specs)}")
        specs = [d for d in specs if d["name"] in only]
    out = []
    for spec in specs:
        file, _, func = spec["entrypoint"].partition(":")
        flow = load_flow_from_entrypoint(f"{(path.parent / file).resolve()}:{func}")
        out.append(flow.to_deployment(
            name=spec["name"], description=spec.get("description"), tags=spec.get("tags"),
            parameters=spec.get("parameters") or {},
            schedules=[_schedule(s) for s in spec.get("schedules") or []],
            concurrency_limit=concurrency_limit(spec.get("concurrency_limit"))))
    return out


def scheduler_problem() -> str | None:
    """Why the Prefect server's scheduler cannot create runs in this environment, if it cannot."""
    major, minor = (int(x) for x in sqlalchemy.__version__.split(".")[:2])
    if (major, minor) >= (2, 1):
        return (f"SQLAlchemy {sqlalchemy.__version__} is installed: Prefect 3.8's scheduler fails to insert "
                "scheduled runs with it ('Can't evaluate bulk DML statement'); pin sqlalchemy<2.1")
    return None


class LocalPrefectServer:
    """`prefect server start` on loopback for `pshub serve`: Prefect's ephemeral API runs no scheduler, so
    schedules need a real server; this one lives as long as the command and keeps its state in `home`."""
    def __init__(self, home: Path, startup_seconds: float = 120):
        self.home, self.startup_seconds = Path(home), startup_seconds
        self.log_path = self.home / "server.log"
        self._proc: subprocess.Popen | None = None

    def start(self) -> str:
        self.home.mkdir(parents=True, exist_ok=True)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        self._log = open(self.log_path, "ab")
        self._proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                       "--port", str(port)], env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                      # Ctrl-C on the terminal stops `pshub serve`, which stops its runner and then
                                      # this server: the server must not die first under its runner's polls
                                      start_new_session=True)
        api_url = f"http://127.0.0.1:{port}/api"
        deadline = time.monotonic() + self.startup_seconds
        while True:
            if self._proc.poll() is not None:
                raise RuntimeError(f"the Prefect server exited ({self._proc.returncode}): see {self.log_path}")
            if answers(api_url):
                # the commands started while it runs use it rather than a server of their own (pshub.prefect_api)
                announce_server(self.home, api_url, self._proc.pid)
                return api_url
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Prefect server did not answer in {self.startup_seconds:.0f}s: see {self.log_path}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self._proc is not None:
            withdraw_server(self.home, self._proc.pid)
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if getattr(self, "_log", None):
            self._log.close()


# how long `pshub serve` waits, after Ctrl-C, for Prefect's runner to stop on its own
STOP_SECONDS = 20.0


def serve_until_interrupted(deployments: list, limit: int | None, stop_seconds: float = STOP_SECONDS) -> bool:
    """Serve the deployments with Prefect's runner until Ctrl-C, then stop in bounded time. The stop is Prefect's
    own graceful one (the runner's SIGTERM path, Runner.astop: flow runs in flight are cancelled, polling stops,
    the schedules are paused) rather than a KeyboardInterrupt thrown into whatever the event loop was awaiting;
    every step of it is an API call, which on a busy server can take Prefect's request timeout (60 s) and its
    retries. Past `stop_seconds` the flow-run processes still running are killed and the rest is left undone.
    Returns True when the runner stopped on its own in time."""
    runner = Runner(limit=limit, pause_on_shutdown=True)
    for deployment in deployments:
        runner.add_deployment(deployment)
    # The flow-run processes start in sessions of their own (Prefect's own option, which its workspace starter uses:
    # prefect.runner._starter_engine.EngineCommandStarter(isolate_process_group=True)), so that a terminal's Ctrl-C
    # reaches this process only and the runner stops them through Prefect (cancel, then a signal to the run's whole
    # process group), rather than interrupting each wherever it is: mid-import, mid-dbt, each with a traceback. The
    # runner picks its starter from its module at each run (prefect.runner.runner._resolve_starter).
    engine_starter = prefect_runner.EngineCommandStarter
    prefect_runner.EngineCommandStarter = functools.partial(engine_starter, isolate_process_group=True)
    try:
        return _serve(runner, stop_seconds)
    finally:
        prefect_runner.EngineCommandStarter = engine_starter


def _serve(runner: Runner, stop_seconds: float) -> bool:
    async def serve() -> bool:
        interrupted = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupted.set)
        serving = asyncio.create_task(runner.start())
        waiting = asyncio.create_task(interrupted.wait())
        await asyncio.wait({serving, waiting}, return_when=asyncio.FIRST_COMPLETED)
        if serving.done():  # stopped by itself (SIGTERM: Prefect's own handler)
            waiting.cancel()
            serving.result()
            return True
        stopping = asyncio.create_task(_stop(runner, serving))
        done, _ = await asyncio.wait({stopping}, timeout=stop_seconds)
        return bool(done)

    loop = asyncio.new_event_loop()
    stopped_in_time = loop.run_until_complete(serve())
    if stopped_in_time:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    else:  # the loop is left as it is: closing it would wait for the very calls that did not finish
        _kill_children()
    return stopped_in_time


async def _stop(runner: Runner, serving: asyncio.Task) -> None:
    if runner.started:
        await runner.astop()
    else:
        serving.cancel()
    await asyncio.gather(serving, return_exceptions=True)


def _kill_children(grace_seconds: float = 5.0) -> None:
    """The flow-run processes the runner started (and theirs): asked to stop, then killed."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(children, timeout=grace_seconds)
    for child in alive:
        try:
            child.kill()
        except psutil.Error:
            pass
