"""The layers point one way, read from the code's own imports (ast over every .py file of the packages).

    application  pshub/app/      the `pshub` command, demo, serve's deployments, progress display, report
    flows        flows/          Prefect flows: ingest, transform, sync, hub
    engine       reverse_etl/    reverse ETL: plan, validate, push, record
    core         pshub/          settings, warehouse, runs, run log, exceptions, status, marts, dbt runner
    connectors   connectors/     one client per system API
    sandbox      sandbox/        a separate tool: only the application may start it; it imports none of the hub

A module may import its own layer and the layers below it, never one above; nothing but the application imports
the sandbox; no two modules import each other, directly or round a longer circle. Every import counts, at module
level or inside a function, under `if TYPE_CHECKING` too.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pshub", "flows", "reverse_etl", "connectors", "sandbox")

# highest first; a module belongs to the first layer whose prefix it starts with
LAYERS = [("application", "pshub.app"), ("flows", "flows"), ("engine", "reverse_etl"), ("core", "pshub"),
          ("connectors", "connectors")]
RANK = {name: len(LAYERS) - i for i, (name, _) in enumerate(LAYERS)}


def modules(root: Path) -> dict[str, Path]:
    """{dotted module name: file} of every .py file under the packages."""
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules that `name` imports (a `from package import module` names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import a.b.c` of a name inside a module: the module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def layer(module: str) -> str:
    if module.split(".")[0] == "sandbox":
        return "sandbox"
    return next(name for name, prefix in LAYERS if module == prefix or module.startswith(prefix + "."))


def graph(root: Path) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def wrong_way(edges: dict[str, set[str]]) -> list[str]:
    """Each import that points up the layers, or into the sandbox from anywhere but the application or itself."""
    out = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            a, b = layer(source), layer(target)
            if b == "sandbox":
                ok = a in ("sandbox", "application")
            elif a == "sandbox":
                ok = False  # the sandbox simulates the APIs from their documentation, never from the hub's code
            else:
                ok = RANK[b] <= RANK[a]
            if not ok:
                out.append(f"{source} ({a}) imports {target} ({b})")
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_import_points_down_the_layers():
    found = wrong_way(graph(ROOT))
    assert not found, "imports that point up the layers or into the sandbox:\n" + "\n".join(found)


def test_no_import_cycle_between_modules():
    found = cycles(graph(ROOT))
    assert not found, "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_checks_see_an_import_up_the_layers_into_the_sandbox_and_a_cycle(tmp_path):
    """The two checks above fail on a tree that breaks each rule once (so they cannot pass by seeing nothing)."""
    files = {
        "pshub/__init__.py": "",
        "pshub/app/__init__.py": "",
        "pshub/app/cli.py": "from flows import hub\nimport sandbox.server\n",
        "pshub/settings.py": "def get():\n    import pshub.app  # up: core -> application\n",
        "flows/__init__.py": "",
        "flows/hub.py": "from . import ingest\nfrom sandbox.server import SandboxServer  # into the sandbox\n",
        "flows/ingest.py": "from flows.hub import x  # a cycle with hub\nfrom pshub import settings\n",
        "reverse_etl/__init__.py": "",
        "connectors/__init__.py": "",
        "sandbox/__init__.py": "",
        "sandbox/server.py": "import connectors  # the sandbox knows nothing of the hub\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    edges = graph(tmp_path)
    assert edges["flows.hub"] == {"flows.ingest", "sandbox.server"}
    assert wrong_way(edges) == [
        "flows.hub (flows) imports sandbox.server (sandbox)",
        "pshub.settings (core) imports pshub.app (application)",
        "sandbox.server (sandbox) imports connectors (connectors)",
    ]
    assert cycles(edges) == [["flows.hub", "flows.ingest"]]


def test_a_kantata_landing_imports_no_other_connector():
    """The one lazy import of the ingest path (flows.landing.parser_for, pshub.clients.client_for): what lands a
    Kantata object, in a fresh interpreter, loads neither the other connectors nor PyJWT and cryptography."""
    import subprocess
    import sys

    code = textwrap.dedent("""
        import sys
        from connectors import catalog
        from flows import objects
        from flows.landing import spec_for
        from pshub import clients
        from connectors.kantata import KantataClient
        (obj,) = catalog.find("kantata", "time_entries")
        assert spec_for(obj).parse_updated("2026-01-02T03:04:05Z").year == 2026
        print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("connectors", "jwt", "cryptography"))))
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["connectors", "connectors.catalog", "connectors.http", "connectors.kantata",
                                   "connectors.paging"]


def test_the_pshub_command_starts_without_httpx_s_own_command_line_client():
    """`pshub` marks httpx's command-line client absent before httpx loads: click, rich and pygments stay out of
    every start, and httpx still works."""
    import subprocess
    import sys

    code = textwrap.dedent("""
        import sys
        sys.argv = ["pshub", "ingest"]
        import pshub.app.cli
        import httpx
        assert httpx.Client is not None and httpx.Response(200, text="ok").text == "ok"
        print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in ("click", "rich", "pygments"))) or "none")
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["none"]
