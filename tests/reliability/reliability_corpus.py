"""The texts of the bad-input corpus (tests/reliability/conftest.py plants them)."""

ONE_MB_NOTE = "long note " * 100_000
UNICODE_NOTE = "Workshop in Zürich — 東京 follow-up, مراجعة, emoji 🚀, zero\u200bwidth, \u202eright-to-left"
# JSON may carry U+0000 (RFC 8259 section 7: any character may be escaped); PostgreSQL cannot store it
NUL_NOTE = "pasted from a terminal:\x00 the rest of the note"
SOQL_NAME = "O'Brien & Sons' OR Name LIKE '%' --"
NULL_ID_NAME = "Reliability: an account served without its Id"
EDITED_NOTE = "saved again while the hub was paging through time entries"
