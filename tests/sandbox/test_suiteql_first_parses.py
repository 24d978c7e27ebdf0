"""The SuiteQL sandbox parses the first queries of a fresh server right even when they arrive at once."""
import subprocess
import sys
from pathlib import Path

PROBE = """
import threading
from sandbox import suiteql
q = "SELECT id FROM subsidiary WHERE lastmodifieddate >= TO_TIMESTAMP('2024-01-01 00:00:00', 'YYYY-MM-DD HH24:MI:SS')"
errors = []
def parse():
    try:
        suiteql.translate(q)
    except Exception as exc:
        errors.append(str(exc))
threads = [threading.Thread(target=parse) for _ in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
print(len(errors), errors[:1])
"""


def test_queries_parsed_at_once_in_a_fresh_process_all_parse():
    # sqlglot's Oracle dialect, parsing in several threads at once before any parse finished, read TO_TIMESTAMP as an
    # unknown function (about one fresh process in six with 8 threads)
    root = Path(__file__).resolve().parents[2]
    for _ in range(6):
        out = subprocess.run([sys.executable, "-c", PROBE], cwd=root, capture_output=True, text=True, check=True)
        assert out.stdout.startswith("0 "), out.stdout
