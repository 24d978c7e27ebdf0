"""Deterministic synthetic consulting firm, generated vectorised with numpy and inserted in bulk.

Shape (see shared/METRICS.md): three legal entities (US/USD, UK/GBP, DE/EUR); people with roles and
rate-card rates; lognormal deal sizes (median ~150k USD); 59% time-and-materials contracts; staffing that
keeps billable utilization near 70%; one time entry per person per working day per project in
quarter-hour steps; approval lags; monthly invoices with Net 30/45/60 terms, half of them paid late and
a few never. Engagements won before the "hub cutover" (the first day of the previous month) were set up
by hand in the ERP and PSA (no external ids) and their time reached the ERP through the old process;
deals won since exist only in the CRM, waiting for the hub.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

import numpy as np

from sandbox import schema
from sandbox.store import Store, sf_id

SCALES = {"demo": {"people": 50, "months": 12}, "medium": {"people": 1450, "months": 36},
          "large": {"people": 4500, "months": 60}}  # about 5.2M time entries
# legal entity, currency, NetSuite subsidiary id, currency id, country, weight
ENTITIES = [("US", "USD", 1, 1, "United States", 0.55), ("UK", "GBP", 2, 2, "United Kingdom", 0.25),
            ("DE", "EUR", 3, 4, "Germany", 0.20)]
SUBSIDIARY_NAMES = {1: "Northbeam Consulting Inc.", 2: "Northbeam Consulting Ltd", 3: "Northbeam Beratung GmbH"}
CURRENCIES = [(1, "USD", "US Dollar", "$"), (2, "GBP", "British pound", "£"), (3, "CAD", "Canadian Dollar", "C$"),
              (4, "EUR", "Euro", "€")]
USD_PER = {"USD": 1.0, "GBP": 1.27, "EUR": 1.08, "CAD": 0.73}
# role, USD bill rate, share of staff, NetSuite service item id
ROLES = [("Analyst", 90, 0.25, 11), ("Consultant", 120, 0.40, 12), ("Project Manager", 145, 0.15, 13),
         ("Program Manager", 165, 0.05, 14), ("Architect", 235, 0.15, 15)]
ITEMS = [(11, "Analyst Services"), (12, "Consulting Services"), (13, "Project Management Services"),
         (14, "Program Management Services"), (15, "Architecture Services"), (16, "Fixed Fee Services"),
         (17, "Milestone Billing"), (18, "Retainer Services"), (19, "Expense Reimbursement")]
TERMS = [(4, "Net 15", 15), (5, "Net 30", 30), (6, "Net 45", 45), (7, "Net 60", 60), (3, "Due on receipt", 0)]
ENTITY_STATUS = [(1, "Closed", "JOB"), (2, "In Progress", "JOB"), (3, "Not Awarded", "JOB"), (4, "On Hold", "JOB"),
                 (17, "Pending", "JOB")]
BILLING_MODELS = [("Time and Materials", 0.59, "TM"), ("Fixed Fee", 0.20, "FBI"), ("Milestone", 0.13, "FBM"),
                  ("Retainer", 0.08, "CB")]
SERVICE_LINES = ["Strategy", "Data & Analytics", "Cloud Migration", "ERP Implementation", "Cybersecurity",
                 "Managed Services"]
KT_STATUS = {"Not Started": (100, "grey"), "In Progress": (305, "green"), "On Hold": (330, "yellow"),
             "Completed": (400, "blue"), "Cancelled": (410, "red")}
OPEN_STAGES = [("Prospecting", 10), ("Qualification", 20), ("Needs Analysis", 30), ("Proposal/Price Quote", 60),
               ("Negotiation/Review", 80)]
KT_CUSTOM_FIELDS = [(1, "CRM Opportunity ID", "Workspace", "string"), (2, "Client", "Workspace", "string"),
                    (3, "Credit Hold", "Workspace", "boolean"), (4, "Billing Model", "Workspace", "string"),
                    (5, "Legal Entity", "Workspace", "string"), (6, "Service Line", "Workspace", "string")]
FIRST = ("James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
         "Joseph Jessica Thomas Sarah Charles Karen Daniel Lisa Matthew Nancy Anthony Betty Mark Sandra Oliver "
         "Amelia Harry Isla Jack Ava Lukas Emma Leon Mia Felix Hannah Noah Sofia Priya Arjun Wei Mei Kenji Yuki "
         "Fatima Omar Lucas Chloe").split()
LAST = ("Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson Anderson Taylor "
        "Thomas Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott "
        "Green Baker Adams Nelson Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Parker Collins "
        "Edwards Stewart Morris Mueller Schmidt Schneider Fischer Weber Meyer Wagner Becker Patel Shah Chen "
        "Wang Tanaka Sato Okafor Silva").split()
NAME_A = ("Northwind Contoso Fabrikam Tailspin Litware Adatum Wingtip Proseware Fourth Coffee Alpine Blue "
          "Yonder Woodgrove Lucerne Margie Trey Humongous Wide World Southridge Graphic Relecloud Bellows "
          "Consolidated Vanarsdel Munson Trinity Lakeshore Ironbridge Silverline Redwood Harbor Summit "
          "Granite Beacon Crescent Pinnacle Evergreen Keystone Meridian Horizon Sterling Cobalt Falcon "
          "Juniper Orchard Atlas Vertex Quantum Aurora Cedar Maple Oakridge Riverbend Stonegate").split()
NAME_B = ("Logistics Health Energy Bank Insurance Retail Foods Pharma Systems Manufacturing Telecom Media "
          "Motors Airlines Capital Partners Holdings Industries Analytics Software Devices Chemicals "
          "Utilities Hospitality Education Biotech Securities Freight Mining Textiles").split()
SUFFIX = {"US": ["Inc.", "Corp.", "LLC", "Group"], "UK": ["Ltd", "plc", "Group"], "DE": ["GmbH", "AG", "SE"]}
CITIES = {"US": ["New York", "Chicago", "Austin", "Boston", "Seattle", "Atlanta", "Denver"],
          "UK": ["London", "Manchester", "Leeds", "Bristol", "Edinburgh"],
          "DE": ["Berlin", "Munich", "Hamburg", "Frankfurt", "Cologne"]}
INDUSTRIES = ["Financial Services", "Healthcare", "Manufacturing", "Retail", "Technology", "Energy",
              "Public Sector", "Media", "Transportation"]
NOTES = ["Workshop preparation", "Requirements workshop", "Data model review", "Status meeting", "Build",
         "Testing", "Client call", "Documentation", "Migration run", "Design review", "Stakeholder interviews",
         "Deployment", "Code review", "Training session", ""]
EXPENSE_CATEGORIES = ["Travel", "Lodging", "Meals", "Software", "Mileage"]
DEFECT_KINDS = {  # kind -> (METRICS.md data-quality rule number, system, object)
    "time_in_closed_period": (1, "kantata", "time_entries"),
    "time_on_inactive_project": (2, "kantata", "time_entries"),
    "time_after_assignment_end": (2, "kantata", "time_entries"),
    "duplicate_time_entry": (3, "kantata", "time_entries"),
    "over_24_hours_in_a_day": (3, "kantata", "time_entries"),
    "non_positive_hours": (3, "kantata", "time_entries"),
    "zero_rate_on_billable_time": (4, "kantata", "time_entries"),
    "bill_rate_differs_from_rate_card": (5, "kantata", "time_entries"),
    "unapproved_time_marked_billed": (6, "kantata", "time_entries"),
    "duplicate_customer_crm": (7, "salesforce", "Account"),
    "duplicate_customer_erp": (7, "netsuite", "customer"),
    "missing_legal_entity": (8, "salesforce", "Account"),
    "unknown_legal_entity": (8, "salesforce", "Opportunity"),
    "invoice_currency_mismatch": (9, "netsuite", "transaction"),
    "expense_without_project": (10, "kantata", "expenses"),
    "time_bill_without_project": (10, "netsuite", "timebill"),
    "invoice_without_project": (10, "netsuite", "transaction"),
    "closed_won_without_line_items": (11, "salesforce", "Opportunity"),
    "closed_won_without_start_date": (11, "salesforce", "Opportunity"),
    "closed_won_without_billing_model": (11, "salesforce", "Opportunity"),
    "negative_budget_remaining": (12, "kantata", "workspaces"),
    "engagement_key_matches_several": (13, "netsuite", "job"),
    "engagement_key_matches_none": (13, "kantata", "workspaces"),
}
DAY = np.timedelta64(1, "D")


def _d(x) -> np.datetime64:
    return np.datetime64(x, "D")


def _month_start(d: np.datetime64, add: int = 0) -> np.datetime64:
    return (d.astype("datetime64[M]") + add).astype("datetime64[D]")


def _dstr(days: np.ndarray) -> list:
    return np.datetime_as_string(days.astype("datetime64[D]")).tolist()


# the steps of a generation, in order, as progress names them (writing the tables is the last)
STEPS = ("reference data", "people", "accounts", "engagements", "pipeline", "time and expenses", "ERP history",
         "planted defects", "writing the tables")


def describe(progress: dict) -> str:
    """One progress line: steps done of all, and while the tables are written, tables and rows written of all."""
    line = f"generating the {progress['scale']} firm: {progress['done']} of {progress['total']} steps done"
    if progress.get("rows_total"):
        line += (f"; {progress['tables']} of {progress['tables_total']} tables written, "
                 f"{progress['rows']:,} of {progress['rows_total']:,} rows")
    elif progress["done"] < progress["total"]:
        line += f" (now: {STEPS[progress['done']]})"
    return line


class Generator:
    def __init__(self, store: Store, scale: str = "demo", seed: int = 42, defect_rate: float = 0.02,
                 anchor: dt.datetime | None = None, progress: Callable[[dict], None] | None = None):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
        self.store, self.scale, self.seed, self.defect_rate = store, scale, seed, defect_rate
        self._progress = progress
        self.anchor = (anchor or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)).replace(microsecond=0)
        self.rng = np.random.default_rng(seed)
        self.rows: dict[str, dict[str, list]] = {}
        self.defects: list[tuple] = []
        self.seq: dict[str, int] = {}

    # -- helpers --------------------------------------------------------------------------------------
    def add(self, tbl: str, **cols) -> None:
        """Append columns (equal-length lists/arrays) to the rows of table `tbl`."""
        cur = self.rows.setdefault(tbl, {})
        n = None
        for k, v in cols.items():
            v = v.tolist() if isinstance(v, np.ndarray) else [x.item() if isinstance(x, np.generic) else x for x in v]
            n = len(v) if n is None else n
            cur.setdefault(k, []).extend(v)

    def defect(self, kind: str, rid, **detail) -> None:
        rule, system, obj = DEFECT_KINDS[kind]
        self.defects.append((kind, system, obj, str(rid), json.dumps({"rule": rule, **detail})))

    def n_defects(self, population: int, kinds_sharing: int) -> int:
        if self.defect_rate <= 0 or population == 0:
            return 0
        return max(1, int(round(self.defect_rate * population / kinds_sharing)))

    def stamps(self, days: np.ndarray, fmt: str, rng=None) -> list:
        """Datetime strings on the given days at a working-hours time of day, never after the anchor."""
        rng = rng or self.rng
        secs = (days.astype("datetime64[s]") + (rng.integers(8 * 3600, 19 * 3600, len(days))).astype("timedelta64[s]"))
        secs = np.minimum(secs, np.datetime64(self.anchor, "s") - np.timedelta64(60, "s"))
        s = np.datetime_as_string(secs, unit="s")
        if fmt == "sf":
            return [x + ".000+0000" for x in s.tolist()]
        if fmt == "ns":
            return [x.replace("T", " ") for x in s.tolist()]
        return [x + "+00:00" for x in s.tolist()]

    def report(self, done: int, **write) -> None:
        """Tell the progress callback how far the generation is (`done` of the STEPS; while writing, tables and
        rows written of all)."""
        if self._progress is not None:
            self._progress({"scale": self.scale, "done": done, "total": len(STEPS), **write})

    # -- the firm ----------------------------------------------------------------------------------------
    def run(self) -> dict:
        t0 = time.perf_counter()
        cfg = SCALES[self.scale]
        self.today = _d(self.anchor.date())
        self.hist_start = _month_start(self.today, -cfg["months"])
        self.cutover = _month_start(self.today, -1)
        steps = (self.reference, lambda: self.people(cfg["people"]),
                 lambda: self.accounts(max(30, int(cfg["people"] * 0.7))), lambda: self.engagements(cfg["people"]),
                 self.pipeline, self.time_and_expenses, self.erp_history, self.inject_defects)
        self.report(0)
        for done, step in enumerate(steps, start=1):
            step()
            self.report(done)
        stats = self.write()
        self.report(len(STEPS))
        stats["seconds"] = round(time.perf_counter() - t0, 2)
        return stats

    def reference(self) -> None:
        ns = self.stamps(np.full(1, self.hist_start - 400), "ns")[0]
        kt = self.stamps(np.full(1, self.hist_start - 400), "kt")[0]
        for sub, name in SUBSIDIARY_NAMES.items():
            le = [e for e in ENTITIES if e[2] == sub][0]
            self.add("ns_subsidiary", id=[sub], name=[name], fullname=[name if sub == 1 else f"{SUBSIDIARY_NAMES[1]} : {name}"],
                     parent=[None if sub == 1 else 1], currency=[le[3]], country=[le[4]], legalname=[name],
                     isinactive=["F"], lastmodifieddate=[ns])
        for cid, code, name, sym in CURRENCIES:
            self.add("ns_currency", id=[cid], name=[code], symbol=[sym], isbasecurrency=["T" if cid == 1 else "F"],
                     isinactive=["F"], lastmodifieddate=[ns])
        # monthly exchange rates between every subsidiary base currency and every other currency
        months = np.arange(self.hist_start.astype("datetime64[M]") - 6, self.today.astype("datetime64[M]") + 13)
        rid = 1
        for base in (1, 2, 4):
            for cid, code, _, _ in CURRENCIES:
                if cid == base:
                    continue
                bcode = [c[1] for c in CURRENCIES if c[0] == base][0]
                drift = 1 + np.cumsum(self.rng.normal(0, 0.01, len(months)))
                rate = np.round(USD_PER[code] / USD_PER[bcode] * drift, 6)
                n = len(months)
                eff = months.astype("datetime64[D]")
                self.add("ns_currencyrate", id=range(rid, rid + n), basecurrency=[base] * n,
                         transactioncurrency=[cid] * n, exchangerate=rate, effectivedate=_dstr(eff),
                         lastmodifieddate=[x + " 00:05:00" for x in _dstr(eff)])
                rid += n
        for tid, name, days in TERMS:
            self.add("ns_term", id=[tid], name=[name], daysuntilnetdue=[days], isinactive=["F"], lastmodifieddate=[ns])
        for sid, name, typ in ENTITY_STATUS:
            self.add("ns_entitystatus", id=[sid], name=[name], entitytype=[typ], isinactive=["F"], lastmodifieddate=[ns])
        for iid, name in ITEMS:
            self.add("ns_item", id=[iid], itemid=[name], displayname=[name],
                     itemtype=["Service" if iid < 19 else "OthCharge"], externalid=[None], isinactive=["F"],
                     lastmodifieddate=[ns])
        # accounting periods: closed up to the hub cutover
        starts = np.arange(self.hist_start.astype("datetime64[M]") - 6, self.today.astype("datetime64[M]") + 13)
        starts_d = starts.astype("datetime64[D]")
        ends = (starts + 1).astype("datetime64[D]") - DAY
        closed = ends < self.cutover
        self.period_start, self.period_end, self.period_closed = starts_d, ends, closed
        self.period_ids = np.arange(1, len(starts) + 1)
        names = [dt.date.fromisoformat(s).strftime("%b %Y") for s in _dstr(starts_d)]
        closed_on = np.where(closed, ends + 10, ends)
        self.add("ns_accountingperiod", id=self.period_ids, periodname=names, startdate=_dstr(starts_d),
                 enddate=_dstr(ends), closed=np.where(closed, "T", "F"),
                 closedondate=[d if c else None for d, c in zip(_dstr(closed_on), closed)],
                 isquarter=["F"] * len(starts), isyear=["F"] * len(starts), isadjust=["F"] * len(starts),
                 lastmodifieddate=[d + " 18:00:00" if c else ns for d, c in zip(_dstr(closed_on), closed)])
        for rid_, (name, _, _, _) in enumerate(ROLES, start=1):
            self.add("kt_roles", id=[rid_], name=[name], created_at=[kt], updated_at=[kt])
        self.rate_card_of = {}
        rcr = 1
        for i, (le, cur, *_r) in enumerate(ENTITIES, start=1):
            self.rate_card_of[cur] = i
            self.add("kt_rate_cards", id=[i], title=[f"Standard {cur} {dt.date.fromisoformat(str(self.hist_start)).year}"],
                     currency=[cur], is_default=[1 if cur == "USD" else 0], created_at=[kt], updated_at=[kt])
            for r, (rname, usd, _, _) in enumerate(ROLES, start=1):
                self.add("kt_rate_card_roles", id=[rcr], rate_card_id=[i], role_id=[r],
                         rate_in_cents=[self.local_rate(usd, cur) * 100], currency=[cur], created_at=[kt],
                         updated_at=[kt])
                rcr += 1
        for cf in KT_CUSTOM_FIELDS:
            self.add("kt_custom_fields", id=[cf[0]], name=[cf[1]], subject_type=[cf[2]], value_type=[cf[3]],
                     created_at=[kt], updated_at=[kt])
        self.seq["kt_custom_fields"] = len(KT_CUSTOM_FIELDS)

    @staticmethod
    def local_rate(usd: float, cur: str) -> int:
        return int(round(usd / USD_PER[cur] / 5.0) * 5)

    def people(self, n: int) -> None:
        rng = self.rng
        self.n_people = n
        ent = rng.choice(len(ENTITIES), n, p=[e[5] for e in ENTITIES])
        role = rng.choice(len(ROLES), n, p=[r[2] for r in ROLES])
        first = rng.choice(FIRST, n)
        last = rng.choice(LAST, n)
        names = [f"{a} {b}" for a, b in zip(first, last)]
        emails = [f"{a.lower()}.{b.lower()}{i + 1}@northbeam.example" for i, (a, b) in enumerate(zip(first, last))]
        usd_rate = np.array([ROLES[r][1] for r in role], float)
        cost_share = rng.uniform(0.40, 0.60, n)
        self.p_entity, self.p_role, self.p_cost_usd = ent, role, usd_rate * cost_share
        self.p_kt_id = np.arange(100001, 100001 + n)
        self.p_ns_id = np.arange(1001, 1001 + n)
        joined = self.hist_start - rng.integers(30, 2000, n)
        self.p_submit = rng.choice(3, n, p=[0.6, 0.3, 0.1])  # daily, weekly, late
        self.p_approval_lag = rng.integers(2, 10, n)
        kt_created = self.stamps(joined, "kt")
        self.add("kt_users", id=self.p_kt_id, full_name=names, email_address=emails,
                 headline=[ROLES[r][0] for r in role], disabled=np.zeros(n, int), account_id=np.full(n, 5001),
                 created_at=kt_created, updated_at=kt_created)
        ns_stamp = self.stamps(joined, "ns")
        cur = [ENTITIES[e][1] for e in ent]
        self.add("ns_employee", id=self.p_ns_id, entityid=names, firstname=first, lastname=last, email=emails,
                 externalid=[None] * n, subsidiary=[ENTITIES[e][2] for e in ent],
                 title=[ROLES[r][0] for r in role],
                 laborcost=np.round(self.p_cost_usd / np.array([USD_PER[c] for c in cur]), 2),
                 isinactive=["F"] * n, lastmodifieddate=ns_stamp)
        self.seq["ns_entity"] = 1000 + n
        # Salesforce users: the sales team
        k = max(4, n // 15)
        fn, ln = rng.choice(FIRST, k), rng.choice(LAST, k)
        self.sf_users = [sf_id("005", i + 1) for i in range(k)]
        created = self.stamps(self.hist_start - rng.integers(100, 900, k), "sf")
        self.add("sf_User", Id=self.sf_users, Username=[f"{a.lower()}.{b.lower()}@northbeam.example.crm" for a, b in zip(fn, ln)],
                 Name=[f"{a} {b}" for a, b in zip(fn, ln)], FirstName=fn, LastName=ln,
                 Email=[f"{a.lower()}.{b.lower()}@northbeam.example" for a, b in zip(fn, ln)],
                 Title=["Account Executive"] * k, IsActive=[1] * k, CurrencyIsoCode=["USD"] * k, CreatedDate=created,
                 LastModifiedDate=created, SystemModstamp=created)
        self.seq["sf_User"] = k

    def accounts(self, n: int) -> None:
        rng = self.rng
        ent = rng.choice(len(ENTITIES), n, p=[e[5] for e in ENTITIES])
        names, seen = [], set()
        for i in range(n):
            le = ENTITIES[ent[i]][0]
            while True:
                nm = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} {rng.choice(SUFFIX[le])}"
                if nm not in seen:
                    break
                nm = f"{nm} {i}"
                if nm not in seen:
                    break
            seen.add(nm)
            names.append(nm)
        self.a_n, self.a_entity, self.a_name = n, ent, names
        self.a_id = [sf_id("001", i + 1) for i in range(n)]
        self.a_created = self.hist_start - rng.integers(30, 700, n)
        self.a_owner = rng.choice(self.sf_users, n)
        self.a_weight = 1.0 / np.arange(1, n + 1) ** 0.7
        rng.shuffle(self.a_weight)
        self.a_weight /= self.a_weight.sum()
        self.a_terms = rng.choice([5, 6, 7], n, p=[0.5, 0.3, 0.2])
        self.seq["sf_Account"] = n

    def engagements(self, n_people: int) -> None:
        """Won deals with a PSA workspace (closed before the cutover), sized to keep people ~88% staffed."""
        rng = self.rng
        workdays = np.busday_count(self.hist_start, self.today)
        needed = n_people * workdays * 0.80
        lo = self.hist_start - 150
        span = int((self.cutover - lo) / DAY)
        cols = {k: [] for k in ("close", "amount", "months", "model", "team", "acct")}
        got = 0.0
        while got < needed:
            m = 2000
            close = lo + rng.integers(0, span, m)
            amount = np.clip(rng.lognormal(np.log(150000), 0.85, m), 15000, 6_000_000)
            model = rng.choice(len(BILLING_MODELS), m, p=[b[1] for b in BILLING_MODELS])
            months = np.clip(np.round(rng.lognormal(np.log(4), 0.5, m)), 1, 9).astype(int)
            months = np.where(model == 3, 12, months)
            team = np.clip(np.round(amount / (months * 21 * 7 * 150)), 1, 12).astype(int)
            start = close + rng.integers(3, 30, m)
            end = start + (months * 30.4).astype(int)
            s = np.maximum(start, self.hist_start)
            e = np.minimum(end, self.today)
            days = np.where(e > s, np.busday_count(s, np.maximum(e, s)), 0)
            contrib = np.cumsum(team * days)
            take = int(np.searchsorted(contrib, needed - got)) + 1
            take = min(take, m)
            got += contrib[take - 1]
            for k, v in (("close", close), ("amount", amount), ("months", months), ("model", model),
                         ("team", team)):
                cols[k].append(v[:take])
            cols["acct"].append(rng.choice(self.a_n, take, p=self.a_weight))
        e = {k: np.concatenate(v) for k, v in cols.items()}
        order = np.argsort(e["close"], kind="stable")
        e = {k: v[order] for k, v in e.items()}
        n = len(e["close"])
        e["start"] = e["close"] + rng.integers(3, 30, n)
        e["end"] = e["start"] + (e["months"] * 30.4).astype(int)
        e["entity"] = self.a_entity[e["acct"]]
        e["line"] = rng.integers(0, len(SERVICE_LINES), n)
        self.eng = e
        self.n_eng = n

    def pipeline(self) -> None:
        """All opportunities: the won engagements above, deals won since the cutover, lost and open deals."""
        rng = self.rng
        e = self.eng
        won_per_day = self.n_eng / max(1, int((self.cutover - (self.hist_start - 150)) / DAY))
        n_new = max(3, int(round(won_per_day * int((self.today - self.cutover) / DAY))))
        new_close = self.cutover + rng.integers(0, max(1, int((self.today - self.cutover) / DAY)), n_new)
        n_lost = int(self.n_eng * 1.3)
        n_open = max(5, int(won_per_day * 120))
        total = self.n_eng + n_new + n_lost + n_open
        kind = np.concatenate([np.zeros(self.n_eng, int), np.ones(n_new, int), np.full(n_lost, 2), np.full(n_open, 3)])
        acct = np.concatenate([e["acct"], rng.choice(self.a_n, n_new + n_lost + n_open, p=self.a_weight)])
        close = np.concatenate([e["close"], new_close,
                                self.hist_start - 150 + rng.integers(0, int((self.today - self.hist_start + 150) / DAY), n_lost),
                                self.today + rng.integers(1, 150, n_open)])
        m_extra = n_new + n_lost + n_open
        amount = np.concatenate([e["amount"], np.clip(rng.lognormal(np.log(150000), 0.85, m_extra), 15000, 6e6)])
        model = np.concatenate([e["model"], rng.choice(len(BILLING_MODELS), m_extra, p=[b[1] for b in BILLING_MODELS])])
        months = np.concatenate([e["months"], np.clip(np.round(rng.lognormal(np.log(4), 0.5, m_extra)), 1, 9).astype(int)])
        start = np.concatenate([e["start"], close[self.n_eng:] + rng.integers(3, 30, m_extra)])
        end = start + (months * 30.4).astype(int)
        line = np.concatenate([e["line"], rng.integers(0, len(SERVICE_LINES), m_extra)])
        ent = self.a_entity[acct]
        cur = np.array([ENTITIES[x][1] for x in ent])
        fx = np.array([USD_PER[c] for c in cur])
        local_amount = np.round(amount / fx / 100) * 100
        ids = [sf_id("006", i + 1) for i in range(total)]
        created = close - rng.integers(20, 120, total)
        modified = np.where(kind == 3, self.today - rng.integers(0, 20, total), close + rng.integers(0, 5, total))
        modified = np.minimum(modified, self.today)
        stage = np.array(["Closed Won"] * (self.n_eng + n_new) + ["Closed Lost"] * n_lost, dtype=object)
        oi = rng.integers(0, len(OPEN_STAGES), n_open)
        stage = np.concatenate([stage, np.array([OPEN_STAGES[i][0] for i in oi], dtype=object)])
        prob = np.concatenate([np.full(self.n_eng + n_new, 100.0), np.zeros(n_lost),
                               np.array([OPEN_STAGES[i][1] for i in oi], float)])
        closed = kind < 3
        won = kind < 2
        names = [f"{self.a_name[a].split(' ')[0]} {SERVICE_LINES[l]} {['Phase', 'Programme', 'Project', 'Rollout'][i % 4]} {i % 7 + 1}"
                 for i, (a, l) in enumerate(zip(acct, line))]
        self.o_id, self.o_kind, self.o_acct, self.o_cur = ids, kind, acct, cur
        self.o_amount, self.o_model, self.o_start, self.o_end = local_amount, model, start, end
        self.o_names, self.o_line = names, line
        self.e_opp = np.arange(self.n_eng)  # engagement i is opportunity i
        self.e_amount = local_amount[: self.n_eng]
        self.e_cur = cur[: self.n_eng]
        deleted = np.zeros(total, int)
        dele = rng.choice(np.arange(self.n_eng + n_new, total), max(1, total // 150), replace=False)
        deleted[dele] = 1
        sf_created = self.stamps(created, "sf")
        sf_mod = self.stamps(modified, "sf")
        self.add("sf_Opportunity", Id=ids, AccountId=[self.a_id[a] for a in acct], Name=names, StageName=stage,
                 IsClosed=closed.astype(int), IsWon=won.astype(int), CloseDate=_dstr(close), Amount=local_amount,
                 Probability=prob, CurrencyIsoCode=cur, Type=rng.choice(["New Business", "Existing Business"], total),
                 OwnerId=[self.a_owner[a] for a in acct], Billing_Model__c=[BILLING_MODELS[m][0] for m in model],
                 Legal_Entity__c=[ENTITIES[x][0] for x in ent], Service_Line__c=[SERVICE_LINES[l] for l in line],
                 Start_Date__c=_dstr(start), End_Date__c=_dstr(end), External_Id__c=[None] * total,
                 ERP_Project_Id__c=[None] * total, PSA_Project_Id__c=[None] * total, Sync_Status__c=[None] * total,
                 Last_Sync_Error__c=[None] * total, IsDeleted=deleted, CreatedDate=sf_created,
                 LastModifiedDate=sf_mod, SystemModstamp=sf_mod)
        self.seq["sf_Opportunity"] = total
        # line items of won and late-stage deals: roles, hours, rates
        li_opp = np.flatnonzero(won | (prob >= 60))
        li_id = 0
        rows = {k: [] for k in ("Id", "OpportunityId", "Name", "Role__c", "Quantity", "UnitPrice", "TotalPrice",
                                "CurrencyIsoCode", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp")}
        k_roles = rng.integers(1, 5, len(li_opp))
        for o, k in zip(li_opp, k_roles):
            roles = rng.choice(len(ROLES), k, replace=False, p=[r[2] for r in ROLES])
            share = rng.dirichlet(np.ones(k))
            for r, sh in zip(roles, share):
                li_id += 1
                price = self.local_rate(ROLES[r][1], cur[o])
                qty = max(1.0, float(np.round(local_amount[o] * sh / price)))
                rows["Id"].append(sf_id("00k", li_id))
                rows["OpportunityId"].append(ids[o])
                rows["Name"].append(f"{names[o]} - {ROLES[r][0]}")
                rows["Role__c"].append(ROLES[r][0])
                rows["Quantity"].append(qty)
                rows["UnitPrice"].append(float(price))
                rows["TotalPrice"].append(qty * price)
                rows["CurrencyIsoCode"].append(cur[o])
                rows["IsDeleted"].append(0)
                rows["CreatedDate"].append(sf_created[o])
                rows["LastModifiedDate"].append(sf_created[o])
                rows["SystemModstamp"].append(sf_created[o])
        self.add("sf_OpportunityLineItem", **rows)
        self.seq["sf_OpportunityLineItem"] = li_id
        self.li_by_opp = {}
        for i, oid in enumerate(rows["OpportunityId"]):
            self.li_by_opp.setdefault(oid, []).append(rows["Id"][i])
        # accounts: modified when their last deal moved
        a_mod = np.array(self.a_created)
        np.maximum.at(a_mod, acct, np.minimum(close, self.today))
        a_mod = np.minimum(a_mod, self.today)
        a_sf_created = self.stamps(self.a_created, "sf")
        a_sf_mod = self.stamps(a_mod, "sf")
        self.a_sf_mod = a_sf_mod
        n = self.a_n
        le = [ENTITIES[x][0] for x in self.a_entity]
        self.add("sf_Account", Id=self.a_id, Name=self.a_name, Type=rng.choice(["Customer", "Prospect"], n, p=[0.8, 0.2]),
                 Industry=rng.choice(INDUSTRIES, n), CurrencyIsoCode=[ENTITIES[x][1] for x in self.a_entity],
                 Legal_Entity__c=le, BillingCountry=[ENTITIES[x][4] for x in self.a_entity],
                 BillingCity=[rng.choice(CITIES[x]) for x in le], OwnerId=self.a_owner, External_Id__c=[None] * n,
                 ERP_Customer_Id__c=[None] * n, Credit_Hold__c=[0] * n, IsDeleted=[0] * n,
                 CreatedDate=a_sf_created, LastModifiedDate=a_sf_mod, SystemModstamp=a_sf_mod)

    def time_and_expenses(self) -> None:
        """PSA: workspaces, stories, resources, allocations, time entries and expenses of the engagements."""
        rng = self.rng
        e, n = self.eng, self.n_eng
        ws_id = np.arange(2000001, 2000001 + n)
        self.ws_id = ws_id
        status = np.where(e["end"] < self.today, "Completed", "In Progress").astype(object)
        hold = rng.random(n) < 0.04
        status[hold & (status == "In Progress")] = "On Hold"
        self.ws_status = status
        archived = (status == "Completed") & (e["end"] < self.today - 90)
        cur = self.e_cur
        amount_cents = (self.e_amount * 100).astype(np.int64)
        created = self.stamps(np.minimum(e["close"] + rng.integers(1, 10, n), self.today), "kt")
        upd_day = np.minimum(np.maximum(e["end"], e["close"] + 10), self.today)
        # --- staffing ------------------------------------------------------------------------------
        free_from = np.full(self.n_people, self.hist_start - 400)
        jitter = rng.random(self.n_people)
        pools = [np.flatnonzero(self.p_entity == i) for i in range(len(ENTITIES))]
        a_proj, a_person, a_start, a_end = [], [], [], []
        for j in range(n):
            pool = pools[e["entity"][j]] if rng.random() < 0.85 and len(pools[e["entity"][j]]) >= e["team"][j] else np.arange(self.n_people)
            k = min(int(e["team"][j]), len(pool))
            score = (free_from[pool] - e["start"][j]).astype(np.int64) + jitter[pool] * 20
            chosen = pool[np.argpartition(score, k - 1)[:k]] if k < len(pool) else pool
            dur = int((e["end"][j] - e["start"][j]) / DAY)
            for m_, p in enumerate(chosen):
                s = e["start"][j] + (0 if m_ == 0 else int(rng.integers(0, max(1, dur // 6))))
                en = e["end"][j] - (0 if m_ == 0 else int(rng.integers(0, max(1, dur // 8))))
                a_proj.append(j)
                a_person.append(p)
                a_start.append(s)
                a_end.append(en)
                free_from[p] = max(free_from[p], en)
        a_proj = np.array(a_proj)
        a_person = np.array(a_person)
        a_start = np.array(a_start, dtype="datetime64[D]")
        a_end = np.array(a_end, dtype="datetime64[D]")
        A = len(a_proj)
        role = self.p_role[a_person]
        a_cur = cur[a_proj]
        fx = np.array([USD_PER[c] for c in a_cur])
        bill = np.array([self.local_rate(ROLES[r][1], c) for r, c in zip(role, a_cur)], float)
        cost = np.round(self.p_cost_usd[a_person] / fx, 2)
        wr_id = np.arange(3000001, 3000001 + A)
        self.a_proj, self.a_person, self.a_start, self.a_end, self.a_bill = a_proj, a_person, a_start, a_end, bill
        wr_created = self.stamps(np.minimum(a_start - 5, self.today), "kt")
        self.add("kt_workspace_resources", id=wr_id, workspace_id=ws_id[a_proj], user_id=self.p_kt_id[a_person],
                 role_id=role + 1, role_name=[ROLES[r][0] for r in role], bill_rate=bill, cost_rate=cost,
                 start_date=_dstr(a_start), end_date=_dstr(a_end), currency=a_cur, created_at=wr_created,
                 updated_at=wr_created)
        wd = np.busday_count(a_start, np.maximum(a_end, a_start))
        self.add("kt_workspace_allocations", id=np.arange(4000001, 4000001 + A), workspace_resource_id=wr_id,
                 workspace_id=ws_id[a_proj], user_id=self.p_kt_id[a_person], start_date=_dstr(a_start),
                 end_date=_dstr(a_end), minutes=wd * 7 * 60, hard=(rng.random(A) < 0.7).astype(int),
                 created_at=wr_created, updated_at=wr_created)
        self.seq.update(kt_workspace_resources=3000000 + A, kt_workspace_allocations=4000000 + A)
        # --- stories: three phases per workspace, plus milestones for milestone billing --------------
        st_rows = {k: [] for k in ("id", "workspace_id", "parent_id", "title", "story_type", "state", "start_date",
                                   "due_date", "billable", "fixed_fee", "time_estimate_in_minutes",
                                   "budget_estimate_in_cents", "percentage_complete", "archived", "deleted_at",
                                   "created_at", "updated_at")}
        sid = 5000000
        self.task_base = np.zeros(n, np.int64)
        self.milestones = []  # (engagement, story id, due day, amount, completed)
        for j in range(n):
            s, en = e["start"][j], e["end"][j]
            dur = int((en - s) / DAY)
            bounds = [s, s + dur // 5, s + (4 * dur) // 5, en]
            self.task_base[j] = sid + 1
            for ph, title in enumerate(("Discovery", "Delivery", "Hypercare")):
                sid += 1
                done = bounds[ph + 1] < self.today
                st = "completed" if done else ("started" if bounds[ph] < self.today else "not started")
                self._story(st_rows, sid, ws_id[j], title, "task", st, bounds[ph], bounds[ph + 1], True,
                            created[j], 100 if done else 0, upd_day[j])
            if BILLING_MODELS[e["model"][j]][0] == "Milestone":
                k = int(rng.integers(2, 5))
                shares = np.round(rng.dirichlet(np.ones(k) * 3) * self.e_amount[j], 2)
                shares[-1] = round(self.e_amount[j] - shares[:-1].sum(), 2)
                for m_ in range(k):
                    sid += 1
                    due = s + (dur * (m_ + 1)) // k
                    done = due < self.today - 3
                    self._story(st_rows, sid, ws_id[j], f"Milestone {m_ + 1}: {['Design sign-off', 'Build complete', 'UAT accepted', 'Go-live'][m_ % 4]}",
                                "milestone", "completed" if done else "not started", s, due, True, created[j],
                                100 if done else 0, min(due, self.today) if done else upd_day[j],
                                budget=int(round(shares[m_] * 100)), fixed_fee=True)
                    self.milestones.append((j, sid, due, float(shares[m_]), done))
        self.add("kt_stories", **st_rows)
        self.seq["kt_stories"] = sid
        # --- time entries ---------------------------------------------------------------------------
        s = np.maximum(a_start, self.hist_start)
        en = np.minimum(a_end, self.today)
        cnt = np.where(en > s, np.busday_count(s, np.maximum(en, s)), 0)
        idx = np.repeat(np.arange(A), cnt)
        within = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        day = np.busday_offset(s[idx], within, roll="forward")
        person = a_person[idx]
        D = int(np.busday_count(self.hist_start, self.today))
        di = np.busday_count(self.hist_start, day)
        vacation = rng.random((self.n_people, D)) < 0.07
        keep = ~vacation[person, di]
        idx, day, person, di = idx[keep], day[keep], person[keep], di[keep]
        key = person.astype(np.int64) * D + di
        uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
        total = np.clip(rng.normal(7.3, 0.8, len(uniq)), 4, 10)
        hours = np.maximum(0.25, np.round(total[inv] / counts[inv] * 4) / 4)
        worked = np.zeros((self.n_people, D), bool)
        worked[person, di] = True
        # internal non-billable time on days without a project
        ip, idd = np.nonzero(~worked & ~vacation & (rng.random((self.n_people, D)) < 0.75))
        iday = np.busday_offset(self.hist_start, idd, roll="forward")
        ihours = np.round(rng.uniform(4, 8, len(ip)) * 4) / 4
        self.internal_ws = {}
        for i, (le, c, *_r) in enumerate(ENTITIES):
            wid = 2900001 + i
            self.internal_ws[i] = wid
            st_rows2 = {k: [] for k in st_rows}
            self._story(st_rows2, 5900001 + i, wid, "Bench, training and internal", "task", "started",
                        self.hist_start, self.today + 365, False, self.stamps(np.full(1, self.hist_start - 30), "kt")[0],
                        0, self.today)
            self.add("kt_stories", **st_rows2)
        n_proj = len(idx)
        n_int = len(ip)
        self.add("kt_workspaces", id=list(ws_id) + [2900001 + i for i in range(len(ENTITIES))],
                 title=[f"{self.a_name[a]} - {self.o_names[j]}" for j, a in enumerate(e["acct"])] +
                       [f"Internal - {le} bench, training and pre-sales" for le, *_r in ENTITIES],
                 description=[f"{BILLING_MODELS[m][0]} engagement" for m in e["model"]] + ["Internal time"] * 3,
                 archived=list(archived.astype(int)) + [0, 0, 0],
                 start_date=_dstr(e["start"]) + [str(self.hist_start - 30)] * 3,
                 due_date=_dstr(e["end"]) + [str(self.today + 365)] * 3,
                 budgeted=[1] * n + [0] * 3, price_in_cents=list(amount_cents) + [0] * 3,
                 budget_used_in_cents=[0] * (n + 3), currency=list(cur) + [x[1] for x in ENTITIES],
                 rate_card_id=[self.rate_card_of[c] for c in cur] + [1, 2, 3],
                 status_key=[KT_STATUS[s_][0] for s_ in status] + [305] * 3,
                 status_message=list(status) + ["In Progress"] * 3,
                 status_color=[KT_STATUS[s_][1] for s_ in status] + ["green"] * 3,
                 creator_role=["maven"] * (n + 3), percentage_complete=[0] * (n + 3),
                 account_id=[5001] * (n + 3),
                 created_at=created + [self.stamps(np.full(1, self.hist_start - 30), "kt")[0]] * 3,
                 updated_at=self.stamps(upd_day, "kt") + self.stamps(np.full(3, self.today - 1), "kt"))
        # custom field values on workspaces
        cfv = {k: [] for k in ("id", "custom_field_id", "subject_type", "subject_id", "value", "created_at", "updated_at")}
        cid = 0
        for j in range(n):
            for fid, val in ((2, self.a_name[e["acct"][j]]), (4, BILLING_MODELS[e["model"][j]][0]),
                             (5, ENTITIES[e["entity"][j]][0]), (6, SERVICE_LINES[e["line"][j]])):
                cid += 1
                for k_, v_ in (("id", 6000000 + cid), ("custom_field_id", fid), ("subject_type", "Workspace"),
                               ("subject_id", int(ws_id[j])), ("value", val), ("created_at", created[j]),
                               ("updated_at", created[j])):
                    cfv[k_].append(v_)
        self.add("kt_custom_field_values", **cfv)
        self.seq["kt_custom_field_values"] = 6000000 + cid
        self.seq["kt_workspaces"] = 2900001 + len(ENTITIES)
        # assemble entries: project rows then internal rows
        t_person = np.concatenate([person, ip])
        t_day = np.concatenate([day, iday])
        t_proj = np.concatenate([a_proj[idx], np.full(n_int, -1)])
        t_ws = np.concatenate([ws_id[a_proj[idx]], np.array([self.internal_ws[x] for x in self.p_entity[ip]], int)])
        pj = a_proj[idx]
        frac = ((day - self.eng["start"][pj]) / DAY) / np.maximum(1, (self.eng["end"][pj] - self.eng["start"][pj]) / DAY)
        phase = np.where(frac < 0.2, 0, np.where(frac < 0.8, 1, 2))
        t_story = np.concatenate([self.task_base[pj] + phase, np.array([5900001 + x for x in self.p_entity[ip]], int)])
        t_minutes = (np.concatenate([hours, ihours]) * 60).astype(int)
        t_billable = np.concatenate([rng.random(n_proj) > 0.04, np.zeros(n_int, bool)])
        t_bill = np.concatenate([bill[idx], np.zeros(n_int)])
        t_cur = np.concatenate([a_cur[idx], np.array([ENTITIES[x][1] for x in self.p_entity[ip]])])
        cost_local = np.concatenate([cost[idx], np.round(self.p_cost_usd[ip] / np.array([USD_PER[ENTITIES[x][1]] for x in self.p_entity[ip]]), 2)])
        t_role = self.p_role[t_person] + 1
        T = len(t_person)
        # submission and approval
        sub = self.p_submit[t_person]
        weekday = (t_day.astype("datetime64[D]").view("int64") - 4) % 7  # 0 = Monday
        submit_day = np.where(sub == 0, t_day, np.where(sub == 1, t_day + (4 - weekday).clip(0),
                                                        t_day + rng.integers(5, 25, T)))
        submitted = submit_day < self.today
        sel = np.flatnonzero(submitted)
        t_person, t_day, t_proj, t_ws, t_story = t_person[sel], t_day[sel], t_proj[sel], t_ws[sel], t_story[sel]
        t_minutes, t_billable, t_bill, t_cur, cost_local, t_role, submit_day = (
            t_minutes[sel], t_billable[sel], t_bill[sel], t_cur[sel], cost_local[sel], t_role[sel], submit_day[sel])
        T = len(sel)
        approve_day = submit_day + self.p_approval_lag[t_person]
        approved = approve_day < self.today
        order = np.lexsort((t_person, t_day))
        self.te = {"person": t_person[order], "day": t_day[order], "proj": t_proj[order], "ws": t_ws[order],
                   "story": t_story[order], "minutes": t_minutes[order], "billable": t_billable[order],
                   "rate": np.round(t_bill[order] * 100).astype(np.int64), "cost": np.round(cost_local[order] * 100).astype(np.int64),
                   "cur": t_cur[order], "role": t_role[order], "submit": submit_day[order],
                   "approve": approve_day[order], "approved": approved[order]}
        self.te["id"] = np.arange(10_000_001, 10_000_001 + T)
        self.te["invoiced"] = np.zeros(T, bool)
        self.te["notes"] = rng.choice(NOTES, T)
        # --- expenses ------------------------------------------------------------------------------
        months_on = np.maximum(1, ((np.minimum(a_end, self.today) - np.maximum(a_start, self.hist_start)) / DAY / 30).astype(int))
        months_on = np.where(np.minimum(a_end, self.today) > np.maximum(a_start, self.hist_start), months_on, 0)
        ne = rng.binomial(months_on, 0.35)
        eidx = np.repeat(np.arange(A), ne)
        E = len(eidx)
        lo = np.maximum(a_start, self.hist_start)[eidx]
        hi = np.minimum(a_end, self.today)[eidx]
        eday = lo + (rng.random(E) * ((hi - lo) / DAY)).astype(int)
        ecur = a_cur[eidx]
        self.ex = {"id": np.arange(7_000_001, 7_000_001 + E), "ws": ws_id[a_proj[eidx]], "proj": a_proj[eidx],
                   "person": a_person[eidx], "day": eday, "cat": rng.choice(EXPENSE_CATEGORIES, E),
                   "cents": np.round(rng.lognormal(np.log(180), 0.8, E) * 100).astype(np.int64), "cur": ecur,
                   "billable": rng.random(E) < 0.8, "approved": eday < self.today - 10}
        self.ex["invoiced"] = np.zeros(E, bool)

    def _story(self, rows, sid, ws, title, typ, state, start, due, billable, created, pct, upd, budget=None,
               fixed_fee=False):
        vals = {"id": sid, "workspace_id": int(ws), "parent_id": None, "title": title, "story_type": typ,
                "state": state, "start_date": str(start), "due_date": str(due), "billable": int(billable),
                "fixed_fee": int(fixed_fee), "time_estimate_in_minutes": None, "budget_estimate_in_cents": budget,
                "percentage_complete": pct, "archived": 0, "deleted_at": None, "created_at": created,
                "updated_at": self.stamps(np.full(1, upd), "kt")[0] if not isinstance(upd, str) else upd}
        for k, v in vals.items():
            rows[k].append(v)

    def erp_history(self) -> None:
        """ERP: customers, projects, time bills, invoices and payments of engagements before the cutover."""
        rng = self.rng
        e, n = self.eng, self.n_eng
        legacy_accts = np.unique(e["acct"])
        next_entity = self.seq["ns_entity"]
        cust_id = {}
        for a in legacy_accts:
            next_entity += 1
            cust_id[a] = next_entity
        self.cust_id = cust_id
        accts = list(legacy_accts)
        c_created = self.a_created[accts] + rng.integers(0, 60, len(accts))
        cs = self.stamps(c_created, "ns")
        self.c_terms = {a: int(self.a_terms[a]) for a in accts}
        self.add("ns_customer", id=[cust_id[a] for a in accts],
                 entityid=[f"CUST-{cust_id[a]}" for a in accts], companyname=[self.a_name[a] for a in accts],
                 externalid=[None] * len(accts), parent=[None] * len(accts),
                 subsidiary=[ENTITIES[self.a_entity[a]][2] for a in accts],
                 currency=[ENTITIES[self.a_entity[a]][3] for a in accts], terms=[self.c_terms[a] for a in accts],
                 email=[f"ap@{self.a_name[a].split(' ')[0].lower()}.example" for a in accts],
                 phone=[None] * len(accts), creditlimit=[None] * len(accts), creditholdoverride=["AUTO"] * len(accts),
                 isinactive=["F"] * len(accts), datecreated=cs, lastmodifieddate=cs)
        self.add("ns_customersubsidiaryrelationship", id=range(1, len(accts) + 1), entity=[cust_id[a] for a in accts],
                 subsidiary=[ENTITIES[self.a_entity[a]][2] for a in accts], isprimarysub=["T"] * len(accts),
                 lastmodifieddate=cs)
        self.seq["ns_customersubsidiaryrelationship"] = len(accts)
        # the CRM carries the ERP customer id on ~70% of these accounts (typed in by hand)
        typed = rng.random(len(accts)) < 0.7
        self.erp_id_typed = {a: str(cust_id[a]) for a, t in zip(accts, typed) if t}
        acc_rows = self.rows["sf_Account"]
        for a, v in self.erp_id_typed.items():
            acc_rows["ERP_Customer_Id__c"][a] = v
        job_id = np.arange(next_entity + 1, next_entity + 1 + n)
        self.job_id = job_id
        next_entity += n
        self.seq["ns_entity"] = next_entity
        st = self.ws_status
        js = self.stamps(np.minimum(e["close"] + rng.integers(1, 12, n), self.today), "ns")
        self.add("ns_job", id=job_id, entityid=[f"PRJ-{i:05d}" for i in range(1, n + 1)],
                 companyname=[self.o_names[j] for j in range(n)], externalid=[None] * n,
                 parent=[cust_id[a] for a in e["acct"]], customer=[cust_id[a] for a in e["acct"]],
                 subsidiary=[ENTITIES[x][2] for x in e["entity"]], currency=[ENTITIES[x][3] for x in e["entity"]],
                 entitystatus=[{"Completed": 1, "In Progress": 2, "On Hold": 4}[s] for s in st],
                 jobtype=["Client Project"] * n, jobbillingtype=[BILLING_MODELS[m][2] for m in e["model"]],
                 startdate=_dstr(e["start"]), projectedenddate=_dstr(e["end"]),
                 enddate=[d if s == "Completed" else None for d, s in zip(_dstr(e["end"]), st)],
                 projectedvalue=self.e_amount, custentity_billing_model=[BILLING_MODELS[m][0] for m in e["model"]],
                 custentity_service_line=[SERVICE_LINES[l] for l in e["line"]],
                 custentity_crm_opportunity_id=[None] * n, isinactive=["F"] * n, datecreated=js, lastmodifieddate=js)
        # time bills: approved billable time before the cutover reached the ERP by the old process
        te = self.te
        posted = (te["proj"] >= 0) & te["approved"] & te["billable"] & (te["day"] < self.cutover)
        self.te_posted = posted
        pi = np.flatnonzero(posted)
        P = len(pi)
        tb_id = np.arange(1, P + 1)
        self.tb = {"id": tb_id, "te": pi, "job": job_id[te["proj"][pi]], "hours": te["minutes"][pi] / 60.0,
                   "rate": te["rate"][pi] / 100.0, "day": te["day"][pi], "person": te["person"][pi],
                   "item": np.array([ROLES[r - 1][3] for r in te["role"][pi]]) if P else np.zeros(0, int),
                   "billed": np.zeros(P, bool), "invoice": np.full(P, -1, np.int64)}
        self.tb_created = np.minimum(te["approve"][pi] + 1, self.today)
        # invoices
        self.transactions = {k: [] for k in ("id", "tranid", "type", "trandate", "entity", "subsidiary", "currency",
                                             "exchangerate", "foreigntotal", "foreignamountpaid",
                                             "foreignamountunpaid", "status", "postingperiod", "terms", "duedate",
                                             "closedate", "externalid", "memo")}
        self.lines = {k: [] for k in ("uniquekey", "transaction", "id", "linesequencenumber", "mainline", "item",
                                      "entity", "subsidiary", "quantity", "rate", "netamount", "foreignamount",
                                      "isbillable", "memo", "day")}
        self.links = {k: [] for k in ("id", "previousdoc", "nextdoc", "linktype", "foreignamount", "day")}
        self.tx_next, self.line_next, self.link_next = 1000, 0, 0
        self.payer = rng.choice(3, self.a_n, p=[0.45, 0.5, 0.05])  # punctual, late, bad payer
        self.expense_history()
        # T&M: one invoice per project per month of posted time (+ approved billable expenses of that month)
        if P:
            month = self.tb["day"].astype("datetime64[M]")
            mkey = self.tb["job"].astype(np.int64) * 100000 + month.view("int64")
            uk, first, inv = np.unique(mkey, return_index=True, return_inverse=True)
            model_tm = np.array([BILLING_MODELS[self.eng["model"][te["proj"][pi[f]]]][0] == "Time and Materials" for f in first])
            for g in np.flatnonzero(model_tm):
                rows_g = np.flatnonzero(inv == g)
                f = first[g]
                j = te["proj"][pi[f]]
                inv_day = (month[f] + 1).astype("datetime64[D]") + 2
                if inv_day >= self.today:
                    continue
                lines = []
                for item in np.unique(self.tb["item"][rows_g]):
                    r_ = rows_g[self.tb["item"][rows_g] == item]
                    hrs = float(self.tb["hours"][r_].sum())
                    amt = float(np.round((self.tb["hours"][r_] * self.tb["rate"][r_]).sum(), 2))
                    lines.append((int(item), hrs, round(amt / hrs, 2) if hrs else 0, amt))
                x_lines, x_rows = self.expense_lines(j, month[f])
                tid = self.invoice(j, inv_day, lines + x_lines, f"Time and materials {str(month[f])}")
                self.xr["invoice"][x_rows] = tid
                self.tb["billed"][rows_g] = True
                self.tb["invoice"][rows_g] = tid
                te["invoiced"][pi[rows_g]] = False  # Kantata's own invoicing is not used by this firm
        # fixed fee: monthly instalments over the contract; retainer: monthly; milestone: on completion
        for j in range(n):
            model = BILLING_MODELS[e["model"][j]][0]
            if model in ("Fixed Fee", "Retainer"):
                months = max(1, int(e["months"][j]))
                amt = round(float(self.e_amount[j]) / months, 2)
                for m_ in range(months):
                    d = (e["start"][j].astype("datetime64[M]") + m_ + 1).astype("datetime64[D]") + 2
                    if d >= self.cutover + 5 or d >= self.today:
                        break
                    x_lines, x_rows = self.expense_lines(j, e["start"][j].astype("datetime64[M]") + m_)
                    tid = self.invoice(j, d, [(16 if model == "Fixed Fee" else 18, 1.0, amt, amt)] + x_lines,
                                       f"{model} instalment {m_ + 1}/{months}")
                    self.xr["invoice"][x_rows] = tid
        for (j, sid, due, amt, done) in self.milestones:
            if done and due + 3 < self.cutover:
                self.invoice(j, due + 3, [(17, 1.0, amt, amt)], f"Milestone story {sid}")
        # expenses of a month with no invoice of their project on its billing day: an invoice of their own. Its payment
        # draws from a generator of its own, so that every other invoice of the firm is paid as before expenses were billed
        x_rng = np.random.default_rng([self.seed, 19])
        for (j, m), rows in sorted(self.x_open.items()):
            d = (np.datetime64(m, "M") + 1).astype("datetime64[D]") + 2
            if d >= self.today:
                continue
            self.xr["invoice"][rows] = self.invoice(j, d, self.expense_lines(j, np.datetime64(m, "M"))[0],
                                                    f"Expenses {np.datetime64(m, 'M')}", rng=x_rng)

    def expense_history(self) -> None:
        """ERP expense reports: the approved billable expenses before the cutover reached the ERP by the old process
        and were billed as the billing run bills them (sandbox/simulate.py `_billing_run`: per project, on the 3rd of
        the next month, in one line of item 19 Expense Reimbursement), on the invoice the project gets that day (its
        time and materials or its instalment) or on one of their own. NetSuite bills a project's billable expenses on
        its customer's invoice, in the customer's currency (Invoicing Billable Customers,
        https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N1241287.html)."""
        ex = self.ex
        xm = np.flatnonzero(ex["approved"] & ex["billable"] & (ex["day"] < self.cutover))
        self.xr = {"ex": xm, "invoice": np.full(len(xm), -1, np.int64)}
        month = ex["day"][xm].astype("datetime64[M]").view("int64")
        key = ex["proj"][xm].astype(np.int64) * 100000 + month
        order = np.argsort(key, kind="stable")
        uk, first = np.unique(key[order], return_index=True)
        self.x_open = {(int(k // 100000), int(k % 100000)): rows
                       for k, rows in zip(uk, np.split(order, first[1:]))}

    def expense_lines(self, j, month) -> tuple[list, np.ndarray]:
        """The expense line of engagement j's invoice for `month` (datetime64[M]), and the expense reports it bills
        (taken: a month's expenses are billed once)."""
        rows = self.x_open.pop((int(j), int(np.datetime64(month, "M").view("int64"))), None)
        if rows is None:
            return [], np.zeros(0, np.int64)
        amt = round(float(self.ex["cents"][self.xr["ex"][rows]].sum()) / 100, 2)
        return [(19, 1.0, amt, amt)], rows

    def invoice(self, j: int, day, lines, memo: str, rng=None) -> int:
        """Append an invoice (and its payment, if paid by now) for engagement j."""
        rng = self.rng if rng is None else rng
        a = self.eng["acct"][j]
        cust = self.cust_id[a]
        sub = ENTITIES[self.eng["entity"][j]][2]
        curid = ENTITIES[self.eng["entity"][j]][3]
        total = round(sum(x[3] for x in lines), 2)
        tid = self.tx_next = self.tx_next + 1
        terms = self.c_terms[a]
        due = day + {4: 15, 5: 30, 6: 45, 7: 60, 3: 0}[terms]
        period = int(self.period_ids[np.searchsorted(self.period_start, day, side="right") - 1])
        profile = self.payer[a]
        u = rng.random()
        if profile == 2 and u < 0.5:
            pay = None
        elif profile == 0 or u < 0.45:
            pay = due - int(rng.integers(0, 10))
        elif u < 0.97:
            pay = due + int(rng.exponential(20)) + 1
        else:
            pay = None
        paid = pay is not None and pay < self.today
        self._tx(tid, f"INV{tid:06d}", "CustInvc", day, cust, sub, curid, total, total if paid else 0.0,
                 0.0 if paid else total, "B" if paid else "A", period, terms, due, pay if paid else None, memo)
        self._line(tid, 0, True, None, cust, sub, None, None, total, "")
        for k, (item, qty, rate, amt) in enumerate(lines, start=1):
            self._line(tid, k, False, item, int(self.job_id[j]), sub, qty, rate, amt, memo)
        if paid:
            pid = self.tx_next = self.tx_next + 1
            pp = int(self.period_ids[np.searchsorted(self.period_start, pay, side="right") - 1])
            self._tx(pid, f"PYMT{pid:06d}", "CustPymt", pay, cust, sub, curid, total, total, 0.0, "C", pp, None,
                     None, pay, f"Payment for INV{tid:06d}")
            self._line(pid, 0, True, None, cust, sub, None, None, total, "")
            self.link_next += 1
            for k_, v_ in (("id", self.link_next), ("previousdoc", tid), ("nextdoc", pid), ("linktype", "Payment"),
                           ("foreignamount", total), ("day", pay)):
                self.links[k_].append(v_)
        return tid

    def _tx(self, tid, tranid, typ, day, entity, sub, cur, total, paid, unpaid, status, period, terms, due, close, memo):
        for k, v in (("id", tid), ("tranid", tranid), ("type", typ), ("trandate", day), ("entity", entity),
                     ("subsidiary", sub), ("currency", cur), ("exchangerate", 1.0), ("foreigntotal", total),
                     ("foreignamountpaid", paid), ("foreignamountunpaid", unpaid), ("status", status),
                     ("postingperiod", period), ("terms", terms), ("duedate", due), ("closedate", close),
                     ("externalid", None), ("memo", memo)):
            self.transactions[k].append(v)

    def _line(self, tid, seq, mainline, item, entity, sub, qty, rate, amt, memo):
        self.line_next += 1
        for k, v in (("uniquekey", self.line_next), ("transaction", tid), ("id", seq), ("linesequencenumber", seq),
                     ("mainline", "T" if mainline else "F"), ("item", item), ("entity", entity),
                     ("subsidiary", sub), ("quantity", qty), ("rate", rate), ("netamount", amt),
                     ("foreignamount", amt), ("isbillable", "F" if mainline else "T"), ("memo", memo),
                     ("day", self.transactions["trandate"][-1])):
            self.lines[k].append(v)

    # -- defects -----------------------------------------------------------------------------------
    def inject_defects(self) -> None:
        rng = self.rng
        te, T = self.te, len(self.te["id"])
        proj_rows = np.flatnonzero(te["proj"] >= 0)
        nk = self.n_defects(T, 9)
        extra = {k: [] for k in te}  # appended entries
        used = set()

        def pick(cands, k):
            cands = np.setdiff1d(cands, np.fromiter(used, int, len(used)))
            if len(cands) == 0:
                return np.zeros(0, int)
            out = rng.choice(cands, min(k, len(cands)), replace=False)
            used.update(out.tolist())
            return out

        def append_copy(i, **over):
            for k in te:
                extra[k].append(over.get(k, te[k][i]))
            return extra["id"][-1]

        next_id = int(te["id"][-1]) + 1 if T else 10_000_001
        # 1 time in a closed period, submitted after the period closed, never reached the ERP
        cands = np.flatnonzero(self.te_posted & (te["day"] < self.cutover - 20))
        for i in pick(cands, nk):
            self.te_posted[i] = False
            te["submit"][i] = self.cutover + int(rng.integers(1, 10))
            te["approve"][i] = min(te["submit"][i] + 2, self.today - 1)
            self.defect("time_in_closed_period", te["id"][i], date_performed=str(te["day"][i]))
        # 2 time on a completed / on-hold project after its end, and after the assignment ended
        done = np.flatnonzero((self.ws_status == "Completed") & (self.eng["end"] < self.today - 10))
        for _ in range(nk if len(done) else 0):
            j = int(rng.choice(done))
            rows = proj_rows[te["proj"][proj_rows] == j]
            if not len(rows):
                continue
            i = int(rng.choice(rows))
            d = self.eng["end"][j] + int(rng.integers(1, max(2, int((self.today - self.eng["end"][j]) / DAY))))
            d = np.busday_offset(min(d, self.today - 1), 0, roll="backward")
            nid = append_copy(i, id=next_id, day=d, submit=d, approve=min(d + 2, self.today - 1))
            next_id += 1
            self.defect("time_on_inactive_project", nid, workspace_id=int(te["ws"][i]), status=str(self.ws_status[j]))
        short = np.flatnonzero(self.a_end < self.eng["end"][self.a_proj] - 5)
        short = short[self.a_end[short] < self.today - 5]
        for a_ in (rng.choice(short, min(nk, len(short)), replace=False) if len(short) else []):
            rows = proj_rows[(te["proj"][proj_rows] == self.a_proj[a_]) & (te["person"][proj_rows] == self.a_person[a_])]
            if not len(rows):
                continue
            i = int(rows[-1])
            d = np.busday_offset(self.a_end[a_] + 1, 0, roll="forward")
            if d >= self.today:
                continue
            nid = append_copy(i, id=next_id, day=d, submit=d, approve=min(d + 2, self.today - 1))
            next_id += 1
            self.defect("time_after_assignment_end", nid, workspace_resource_end=str(self.a_end[a_]))
        # 3 duplicates, > 24 h a day, zero or negative hours
        for i in pick(proj_rows, nk):
            nid = append_copy(i, id=next_id)
            next_id += 1
            self.defect("duplicate_time_entry", nid, duplicate_of=int(te["id"][i]))
        for i in pick(proj_rows, nk):
            te["minutes"][i] = int(rng.integers(25, 30)) * 60
            self.defect("over_24_hours_in_a_day", te["id"][i], minutes=int(te["minutes"][i]))
        for i in pick(proj_rows, nk):
            te["minutes"][i] = int(rng.choice([0, -60, -120]))
            self.defect("non_positive_hours", te["id"][i], minutes=int(te["minutes"][i]))
        bill_rows = proj_rows[te["billable"][proj_rows]]
        for n_, i in enumerate(pick(bill_rows, nk)):
            if n_ % 2:
                te["cost"][i] = 0
            else:
                te["rate"][i] = 0
            self.defect("zero_rate_on_billable_time", te["id"][i], which="cost" if n_ % 2 else "bill")
        for i in pick(bill_rows, nk):
            te["rate"][i] = int(round(te["rate"][i] * rng.choice([0.8, 0.9, 1.15]) / 100) * 100)
            self.defect("bill_rate_differs_from_rate_card", te["id"][i], rate_in_cents=int(te["rate"][i]))
        for i in pick(np.flatnonzero(~te["approved"] & (te["proj"] >= 0)), nk):
            te["invoiced"][i] = True
            self.defect("unapproved_time_marked_billed", te["id"][i])
        if extra["id"]:
            for k in te:
                te[k] = np.concatenate([te[k], np.array(extra[k], dtype=te[k].dtype)])
            for k in ("te_posted",):
                setattr(self, k, np.concatenate([self.te_posted, np.zeros(len(extra["id"]), bool)]))
        # 7 duplicate customers (CRM account and ERP customer)
        na = self.n_defects(self.a_n, 3)
        acc = self.rows["sf_Account"]
        for a in rng.choice(self.a_n, min(na, self.a_n), replace=False):
            self.seq["sf_Account"] += 1
            new = sf_id("001", self.seq["sf_Account"])
            for k in acc:
                acc[k].append(acc[k][a])
            acc["Id"][-1] = new
            acc["ERP_Customer_Id__c"][-1] = None
            self.defect("duplicate_customer_crm", new, duplicate_of=self.a_id[a], name=self.a_name[a])
        cus = self.rows["ns_customer"]
        for ci in rng.choice(len(cus["id"]), min(na, len(cus["id"])), replace=False):
            self.seq["ns_entity"] += 1
            new = self.seq["ns_entity"]
            for k in cus:
                cus[k].append(cus[k][ci])
            cus["id"][-1] = new
            cus["entityid"][-1] = f"CUST-{new}"
            self.defect("duplicate_customer_erp", new, duplicate_of=int(cus["id"][ci]))
        # 8 missing or unknown legal entity
        for a in rng.choice(self.a_n, min(na, self.a_n), replace=False):
            acc["Legal_Entity__c"][a] = None
            self.defect("missing_legal_entity", self.a_id[a])
        opp = self.rows["sf_Opportunity"]
        won = np.flatnonzero(self.o_kind <= 1)
        no = self.n_defects(len(won), 4)
        chosen = rng.choice(won, min(len(won), no * 4), replace=False)
        for o in chosen[:no]:
            opp["Legal_Entity__c"][o] = "XX"
            self.defect("unknown_legal_entity", self.o_id[o], value="XX")
        # 11 closed-won without line items / start date / billing model
        for o in chosen[no:2 * no]:
            self.rows["sf_OpportunityLineItem"]["IsDeleted"] = self.rows["sf_OpportunityLineItem"]["IsDeleted"]
            li = self.rows["sf_OpportunityLineItem"]
            drop = set(self.li_by_opp.get(self.o_id[o], []))
            if drop:
                keep = [i for i, x in enumerate(li["Id"]) if x not in drop]
                for k in li:
                    li[k] = [li[k][i] for i in keep]
            self.defect("closed_won_without_line_items", self.o_id[o])
        for o in chosen[2 * no:3 * no]:
            opp["Start_Date__c"][o] = None
            self.defect("closed_won_without_start_date", self.o_id[o])
        for o in chosen[3 * no:4 * no]:
            opp["Billing_Model__c"][o] = None
            self.defect("closed_won_without_billing_model", self.o_id[o])
        # 9 invoice currency differs from the customer's; 10 invoice / time bill / expense with no project
        inv_rows = [i for i, t in enumerate(self.transactions["type"]) if t == "CustInvc"]
        ni = self.n_defects(len(inv_rows), 2)
        pick_inv = rng.choice(inv_rows, min(len(inv_rows), 2 * ni), replace=False) if inv_rows else []
        for i in pick_inv[:ni]:
            cur = self.transactions["currency"][i]
            self.transactions["currency"][i] = 1 if cur != 1 else 4
            self.defect("invoice_currency_mismatch", self.transactions["id"][i],
                        invoice_currency=self.transactions["currency"][i], customer_currency=cur)
        orphan_inv = {self.transactions["id"][i] for i in pick_inv[ni:]}
        for k, tid in enumerate(self.lines["transaction"]):
            if tid in orphan_inv and self.lines["mainline"][k] == "F":
                self.lines["entity"][k] = None
        for tid in orphan_inv:
            self.defect("invoice_without_project", tid)
        nb = self.n_defects(len(self.tb["id"]), 1)
        self.tb_orphans = set()
        for i in (rng.choice(len(self.tb["id"]), min(nb, len(self.tb["id"])), replace=False) if len(self.tb["id"]) else []):
            self.tb_orphans.add(int(i))
            self.defect("time_bill_without_project", int(self.tb["id"][i]))
        nx = self.n_defects(len(self.ex["id"]), 1)
        for i in (rng.choice(len(self.ex["id"]), min(nx, len(self.ex["id"])), replace=False) if len(self.ex["id"]) else []):
            self.ex["ws"][i] = 2899999  # a workspace that does not exist (deleted)
            self.defect("expense_without_project", int(self.ex["id"][i]))
        # 12 negative budget remaining; 13 engagement keys matching several or no records
        nw = self.n_defects(self.n_eng, 3)
        ws = self.rows["kt_workspaces"]
        picks = rng.choice(self.n_eng, min(self.n_eng, 3 * nw), replace=False)
        self.over_budget = set(int(j) for j in picks[:nw])
        for j in picks[:nw]:
            self.defect("negative_budget_remaining", int(self.ws_id[j]))
        job = self.rows["ns_job"]
        for j in picks[nw:2 * nw]:
            self.seq["ns_entity"] += 1
            new = self.seq["ns_entity"]
            for k in job:
                job[k].append(job[k][j])
            job["id"][-1] = new
            job["entityid"][-1] = f"PRJ-{new}"
            self.defect("engagement_key_matches_several", new, duplicate_of=int(job["id"][j]),
                        crm_opportunity=self.o_id[j])
        for j in picks[2 * nw:3 * nw]:
            new = self.seq["kt_workspaces"] = self.seq["kt_workspaces"] + 1
            for k in ws:
                ws[k].append(ws[k][j])
            ws["id"][-1] = new
            ws["title"][-1] = ws["title"][j] + " (copy)"
            ws["start_date"][-1] = str(self.eng["start"][j] + 200)
            self.defect("engagement_key_matches_none", new, copied_from=int(self.ws_id[j]))

    # -- write -------------------------------------------------------------------------------------------
    def write(self) -> dict:
        te = self.te
        T = len(te["id"])
        created = te["submit"].astype("datetime64[s]") + (self.rng.integers(16 * 3600, 20 * 3600, T)).astype("timedelta64[s]")
        approved_at = te["approve"].astype("datetime64[s]") + (self.rng.integers(9 * 3600, 18 * 3600, T)).astype("timedelta64[s]")
        cap = np.datetime64(self.anchor, "s") - np.timedelta64(60, "s")
        created = np.minimum(created, cap)
        updated = np.where(te["approved"], np.minimum(np.maximum(approved_at, created), cap), created)
        cs = np.char.add(np.datetime_as_string(created, unit="s"), "+00:00")
        us = np.char.add(np.datetime_as_string(updated, unit="s"), "+00:00")
        self.add("kt_time_entries", id=te["id"], workspace_id=te["ws"], story_id=te["story"],
                 user_id=self.p_kt_id[te["person"]], role_id=te["role"], date_performed=_dstr(te["day"]),
                 time_in_minutes=te["minutes"], billable=te["billable"].astype(int), notes=te["notes"],
                 rate_in_cents=te["rate"], cost_rate_in_cents=te["cost"], currency=te["cur"],
                 approved=te["approved"].astype(int), is_invoiced=te["invoiced"].astype(int),
                 invoice_id=[None] * T, created_at=cs, updated_at=us)
        self.seq["kt_time_entries"] = int(te["id"].max()) if T else 10_000_000
        # workspace budget used = approved billable time at bill rate
        used = np.zeros(self.n_eng)
        m = (te["proj"] >= 0) & te["billable"] & te["approved"]
        np.add.at(used, te["proj"][m], te["minutes"][m] / 60.0 * te["rate"][m])
        ws = self.rows["kt_workspaces"]
        for j in range(self.n_eng):
            ws["budget_used_in_cents"][j] = int(used[j]) if j not in self.over_budget else int(ws["price_in_cents"][j] * 1.15)
            if ws["price_in_cents"][j]:
                ws["percentage_complete"][j] = int(min(100, 100 * used[j] / ws["price_in_cents"][j]))
        ex = self.ex
        E = len(ex["id"])
        es = self.stamps(np.minimum(ex["day"] + 2, self.today), "kt")
        self.add("kt_expenses", id=ex["id"], workspace_id=ex["ws"], user_id=self.p_kt_id[ex["person"]],
                 date=_dstr(ex["day"]), category=ex["cat"], notes=[f"{c} expense" for c in ex["cat"]],
                 amount_in_cents=ex["cents"], currency=ex["cur"], is_billable=ex["billable"].astype(int),
                 is_invoiced=ex["invoiced"].astype(int), reimbursable=np.ones(E, int),
                 approved=ex["approved"].astype(int), created_at=es, updated_at=es)
        self.seq["kt_expenses"] = int(ex["id"].max()) if E else 7_000_000
        # ERP expense reports for approved billable expenses before the cutover, billed in the invoice of their month
        xm, x_inv = self.xr["ex"], self.xr["invoice"]
        xs = self.stamps(np.minimum(ex["day"][xm] + 5, self.today), "ns")
        self.add("ns_expensereport", id=np.arange(1, len(xm) + 1), externalid=[None] * len(xm),
                 tranid=[f"EXP{i:06d}" for i in range(1, len(xm) + 1)], employee=self.p_ns_id[ex["person"][xm]],
                 entity=self.job_id[ex["proj"][xm]], subsidiary=[ENTITIES[self.eng["entity"][j]][2] for j in ex["proj"][xm]],
                 trandate=_dstr(ex["day"][xm]), category=ex["cat"][xm], amount=ex["cents"][xm] / 100.0,
                 currency=[ENTITIES[self.eng["entity"][j]][3] for j in ex["proj"][xm]],
                 isbillable=["T"] * len(xm), memo=[f"{c} expense" for c in ex["cat"][xm]],
                 billed=np.where(x_inv >= 0, "T", "F"), invoice=[None if x < 0 else int(x) for x in x_inv],
                 datecreated=xs, lastmodifieddate=xs)
        self.seq["ns_expensereport"] = len(xm)
        tb = self.tb
        P = len(tb["id"])
        tbs = self.stamps(self.tb_created, "ns")
        cust = self.job_id[te["proj"][tb["te"]]] if P else []
        cust = [None if i in self.tb_orphans else int(c) for i, c in enumerate(cust)]
        self.add("ns_timebill", id=tb["id"], externalid=[None] * P, employee=self.p_ns_id[tb["person"]],
                 customer=cust, item=tb["item"],
                 subsidiary=[ENTITIES[self.eng["entity"][j]][2] for j in te["proj"][tb["te"]]],
                 hours=tb["hours"], rate=tb["rate"], isbillable=["T"] * P, trandate=_dstr(tb["day"]),
                 memo=te["notes"][tb["te"]], approvalstatus=["2"] * P, billed=np.where(tb["billed"], "T", "F"),
                 invoice=[None if x < 0 else int(x) for x in tb["invoice"]], datecreated=tbs, lastmodifieddate=tbs)
        self.seq["ns_timebill"] = P
        tx = self.transactions
        days = np.array(tx["trandate"], dtype="datetime64[D]")
        closes = [c for c in tx["closedate"]]
        mod_day = np.array([c if c is not None else d for c, d in zip(closes, tx["trandate"])], dtype="datetime64[D]")
        tx_stamp = self.stamps(np.minimum(mod_day, self.today), "ns")
        tx_created = self.stamps(days, "ns")
        cols = dict(tx)
        cols["trandate"] = _dstr(days)
        cols["duedate"] = [None if d is None else str(d) for d in tx["duedate"]]
        cols["closedate"] = [None if d is None else str(d) for d in tx["closedate"]]
        self.add("ns_transaction", **cols, createddate=tx_created, lastmodifieddate=tx_stamp)
        ln = dict(self.lines)
        lday = ln.pop("day")
        self.add("ns_transactionline", **ln,
                 linelastmodifieddate=self.stamps(np.array(lday, dtype="datetime64[D]"), "ns") if lday else [])
        lk = dict(self.links)
        lkd = lk.pop("day")
        self.add("ns_previoustransactionlink", **lk,
                 lastmodifieddate=self.stamps(np.array(lkd, dtype="datetime64[D]"), "ns") if lkd else [])
        self.seq["ns_transaction"] = self.tx_next
        self.seq["ns_transactionline"] = self.line_next
        self.seq["ns_previoustransactionlink"] = self.link_next
        # credit hold: customers with open invoices more than 90 days past due
        cus = self.rows["ns_customer"]
        overdue = {e for e, t, s, d in zip(tx["entity"], tx["type"], tx["status"], tx["duedate"])
                   if t == "CustInvc" and s == "A" and d is not None and d < self.today - 90}
        for i, cid in enumerate(cus["id"]):
            if cid in overdue:
                cus["creditholdoverride"][i] = "ON"
        # insert
        c = self.store.conn()
        counts = {}
        rows_total = sum(len(next(iter(cols.values()))) for cols in self.rows.values())
        written = {"tables": 0, "tables_total": len(self.rows), "rows": 0, "rows_total": rows_total}
        with self.store.write_lock:
            c.execute("BEGIN")
            for tbl, cols in self.rows.items():
                names = list(cols)
                n = len(cols[names[0]])
                counts[tbl] = n
                sql = f'INSERT INTO "{tbl}" ({", ".join(chr(34) + x + chr(34) for x in names)}) VALUES ({", ".join("?" * len(names))})'
                c.executemany(sql, zip(*(cols[x] for x in names)))
                written["tables"] += 1
                written["rows"] += n
                self.report(len(STEPS) - 1, **written)
            c.executemany("INSERT INTO sandbox_defects VALUES (?, ?, ?, ?, ?)", self.defects)
            seq = {**self.seq}
            for tbl, cols in self.rows.items():
                if tbl.startswith("kt_") and tbl not in seq and "id" in cols and cols["id"]:
                    seq[tbl] = max(cols["id"])
            c.executemany("INSERT OR REPLACE INTO sandbox_seq VALUES (?, ?)", list(seq.items()))
            meta = {"generated": 1, "scale": self.scale, "seed": self.seed, "defect_rate": self.defect_rate,
                    "anchor": self.anchor.isoformat(), "hub_cutover": str(self.cutover),
                    "history_start": str(self.hist_start),
                    # the firm's clock starts at the anchor and then runs in real time (plus ticks)
                    "clock_offset_seconds": (self.anchor - dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)).total_seconds(),
                    "last_tick_day": str(self.today)}
            c.executemany("INSERT OR REPLACE INTO sandbox_meta VALUES (?, ?)", [(k, str(v)) for k, v in meta.items()])
            c.execute("COMMIT")
        counts["defects"] = len(self.defects)
        return counts


def generate(store: Store, scale: str = "demo", seed: int = 42, defect_rate: float = 0.02,
             anchor: dt.datetime | None = None, progress: Callable[[dict], None] | None = None) -> dict:
    """Create the schema and the firm in `store`; returns row counts per table and the seconds taken.
    progress: called after each step and each table written, with {scale, done, total[, tables, tables_total,
    rows, rows_total]} (`describe` makes it a line)."""
    store.init_schema()
    return Generator(store, scale, seed, defect_rate, anchor, progress).run()
