"""The application: the `pshub` command, the demo, `pshub serve`'s deployments, the terminal progress display and
the HTML report. It sits on top of the layers (flows, the reverse-ETL engine, connectors, the core in `pshub`) and
is the only code that may start the sandbox; nothing below imports it (tests/test_layers.py)."""
