"""The texts of the bad-input corpus (tests/reliability/conftest.py plants them)."""

ONE_MB_NOTE = "long note " * 100_000
UNICODE_NOTE = "Workshop in Zürich — 東京 follow-up, مراجعة, emoji 🚀, zero\u200bwidth, \u202eright-to-left"
SOQL_NAME = "O'Brien & Sons' OR Name LIKE '%' --"
NULL_ID_NAME = "Reliability: an account served without its Id"
EDITED_NOTE = "saved again while the hub was paging through time entries"
