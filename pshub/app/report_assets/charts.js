// pshub report: draws the page's charts with Chart.js (bundled into the page, see chart.umd.min.js and its licence
// next to this file) and its tables from the JSON in #report-data. No network.
(function () {
  "use strict";
  var STATUS = { succeeded: "var(--ok)", partial: "var(--warn)", failed: "var(--bad)", skipped: "var(--muted)" };
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var drawn = 0;

  function html(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function num(v) { return v === null || v === undefined ? null : Number(v); }
  function fmt(v, unit) {
    if (v === null || v === undefined || isNaN(v)) return "-";
    if (unit === "pct") return (v * 100).toFixed(1) + "%";
    var a = Math.abs(v);
    if (a >= 1e9) return (v / 1e9).toFixed(1) + "B";
    if (a >= 1e6) return (v / 1e6).toFixed(1) + "M";
    if (a >= 1e4) return (v / 1e3).toFixed(0) + "k";
    return Math.round(v * 10) / 10 + "";
  }

  // Colours for canvas: the page's CSS variables resolved, then a qualitative palette; past it, hues spread by the
  // golden angle so that no two of many series (21 exception reasons) share a colour.
  var PALETTE = ["#3565a8", "#e0822f", "#4b9f8a", "#8e5aa8", "#c9a227", "#b04a5a", "#5b8fd6", "#7a9a3a",
                 "#d4668f", "#2f8fa8", "#a86a35", "#6d6d9e"];
  function resolve(c) {
    var m = /^var\((--[a-z0-9-]+)\)$/.exec(c || "");
    return m ? getComputedStyle(document.documentElement).getPropertyValue(m[1]).trim() : c;
  }
  function seriesColor(k) {
    return k < PALETTE.length ? PALETTE[k] : "hsl(" + Math.round((k * 137.508) % 360) + ", 55%, 48%)";
  }
  function frame(id, height) {
    var container = document.getElementById(id);
    container.textContent = "";
    var box = html("div", { style: "position: relative; height: " + height + "px" }, container);
    var canvas = html("canvas", { role: "img", "aria-label": id.replace("chart-", "").replace(/-/g, " ") }, box);
    return { container: container, canvas: canvas };
  }
  function done(f, marks) {
    f.container.setAttribute("data-drawn", "true");
    f.container.setAttribute("data-marks", String(marks));
    drawn += 1;
  }
  // Rows that carry no value to draw (all zero or missing) get the same explicit state as no rows at all.
  var NOTHING_IN_PERIOD = "no data for this period";
  function anyValue(series, positive) {
    return series.some(function (ser) {
      return ser.values.some(function (v) { return num(v) !== null && !isNaN(num(v)) && (!positive || num(v) > 0); });
    });
  }
  function empty(id, message) {
    var container = document.getElementById(id);
    container.textContent = "";
    html("p", { "class": "empty" }, container, message);
    container.setAttribute("data-empty", "true");
    done({ container: container }, 0);
  }
  function countMarks(series, positive) {
    return series.reduce(function (n, ser) {
      return n + ser.values.filter(function (v) { return num(v) !== null && (!positive || num(v) > 0); }).length;
    }, 0);
  }
  function baseOptions(opts, horizontal) {
    var valueAxis = { stacked: opts.stacked !== false, beginAtZero: true, suggestedMax: opts.minMax,
                      ticks: { callback: function (v) { return fmt(v, opts.unit); }, maxTicksLimit: 6 } };
    var labelAxis = { stacked: opts.stacked !== false, grid: { display: false },
                      ticks: { autoSkip: true, maxRotation: 0, maxTicksLimit: opts.maxLabels || 12 } };
    return {
      responsive: true, maintainAspectRatio: false, animation: false, indexAxis: horizontal ? "y" : "x",
      scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
      plugins: {
        legend: { display: opts.series.length > 1 || !!opts.legend, position: "bottom",
                  labels: { boxWidth: 10, font: { size: 11 } } },
        tooltip: { callbacks: { label: function (ctx) {
          return ctx.dataset.label + ": " + fmt(ctx.parsed[horizontal ? "x" : "y"], opts.unit) +
                 (opts.incomplete && opts.incomplete[ctx.dataIndex] ? " (period not ended: incomplete)" : "");
        } } }
      }
    };
  }
  function datasets(opts) {
    return opts.series.map(function (ser, k) {
      var c = ser.colors ? ser.colors.map(resolve) : resolve(ser.color) || seriesColor(k);
      return { label: ser.name, data: ser.values.map(num), backgroundColor: c, borderColor: c };
    });
  }

  // Vertical bars; series stacked. opts: labels, series [{name, values, color|colors}], unit, legend
  function bars(id, opts) {
    if (!opts.labels.length) return empty(id, opts.emptyText || "no data yet");
    if (!anyValue(opts.series, true)) return empty(id, NOTHING_IN_PERIOD);
    var f = frame(id, 260), options = baseOptions(opts, false);
    if (opts.legend) {
      options.plugins.legend.labels.generateLabels = function () {
        return opts.legend.map(function (l) { var c = resolve(l.color); return { text: l.name, fillStyle: c, strokeStyle: c }; });
      };
    }
    new Chart(f.canvas, { type: "bar", data: { labels: opts.labels, datasets: datasets(opts) }, options: options });
    done(f, countMarks(opts.series, true));
  }

  // Horizontal stacked bars, one row per label (long labels fit on the left).
  function hbars(id, opts) {
    if (!opts.labels.length) return empty(id, opts.emptyText || "nothing open");
    if (!anyValue(opts.series, true)) return empty(id, NOTHING_IN_PERIOD);
    var f = frame(id, Math.max(140, 40 + 26 * opts.labels.length + (opts.series.length > 1 ? 14 * Math.ceil(opts.series.length / 3) : 0)));
    new Chart(f.canvas, { type: "bar", data: { labels: opts.labels, datasets: datasets(opts) },
                          options: baseOptions(opts, true) });
    done(f, countMarks(opts.series, true));
  }

  // Lines over shared x labels. opts: labels, series [{name, values, color}], unit, incomplete [bool per label]:
  // a period that has not ended is drawn as a hollow point and its label gets a "*".
  function lines(id, opts) {
    if (!opts.labels.length) return empty(id, opts.emptyText || "no data yet");
    if (!anyValue(opts.series, false)) return empty(id, NOTHING_IN_PERIOD);
    var inc = opts.incomplete || [], f = frame(id, 260), options = baseOptions(opts, false);
    options.scales.y.stacked = false; options.scales.x.stacked = false;
    options.scales.y.beginAtZero = true;
    var sets = datasets(opts).map(function (d) {
      return Object.assign(d, { fill: false, spanGaps: true, borderWidth: 2, tension: 0,
                                pointRadius: opts.labels.map(function (_, i) { return inc[i] ? 4 : 2.5; }),
                                pointBackgroundColor: opts.labels.map(function (_, i) { return inc[i] ? "#fff" : d.borderColor; }) });
    });
    var labels = opts.labels.map(function (l, i) { return String(l) + (inc[i] ? "*" : ""); });
    new Chart(f.canvas, { type: "line", data: { labels: labels, datasets: sets }, options: options });
    var hollow = 0;
    opts.series.forEach(function (ser) { ser.values.forEach(function (v, i) { if (inc[i] && num(v) !== null) hollow += 1; }); });
    f.container.setAttribute("data-incomplete", String(hollow));
    if (hollow) {
      html("div", { "class": "note" }, f.container,
           "* the current period has not ended: its figures are incomplete (hollow points)");
    }
    done(f, countMarks(opts.series, false));
  }
  function tiles(id, items) {
    var box = document.getElementById(id);
    items.forEach(function (t) {
      var tile = html("div", { "class": "tile" }, box);
      html("b", {}, tile, t.value);
      html("span", {}, tile, t.label);
    });
  }
  function money(v) {
    return Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  // A table of rows; columns [{key, label, money|num}]. The container says how many rows it shows.
  function dataTable(id, columns, rows, emptyText) {
    var box = document.getElementById(id);
    box.textContent = "";
    box.setAttribute("data-rows", String(rows.length));
    if (!rows.length) { html("p", { "class": "empty" }, box, emptyText); return; }
    var t = html("table", {}, box), hr = html("tr", {}, html("thead", {}, t)), tb = html("tbody", {}, t);
    columns.forEach(function (c) { html("th", { "class": c.money || c.num ? "n" : "" }, hr, c.label); });
    rows.forEach(function (r) {
      var tr = html("tr", {}, tb);
      columns.forEach(function (c) {
        var v = r[c.key], text = v === null || v === undefined ? "" : c.money ? money(v) : String(v);
        html("td", { "class": c.money || c.num ? "n" : "", "data-col": c.key }, tr, text);
      });
    });
  }
  function unique(values) { return values.filter(function (v, i) { return values.indexOf(v) === i; }); }

  // -- the page -------------------------------------------------------------------------------------------
  var cur = data.currency;
  document.getElementById("generated").textContent = "Generated " + data.generated_at +
      (data.marts_built ? "" : " · the dbt marts are not built yet: run `pshub run`");
  var runs = data.pipeline, last = runs.length ? runs[runs.length - 1] : null, stake = data.stake;
  tiles("stake-tiles", [
    { value: last ? last.status : "no cycle yet", label: "last cycle" + (last ? " · " + last.run_id : "") },
    { value: fmt(stake.money_at_stake) + " " + cur, label: "money at stake past SLA" },
    { value: fmt(stake.money_stuck) + " " + cur, label: "money held by stuck records" },
    { value: String(stake.open_failures), label: "sync failures (destination refused or push failed; retried)" },
    { value: String(stake.open_holds), label: "records held back by business rules (someone must act in a source system)" }
  ]);
  var runLabels = runs.map(function (r) { return r.started_at.slice(5, 16).replace("T", " "); });
  bars("chart-cycle-duration", {
    labels: runLabels, maxLabels: 8, labelChars: 11, emptyText: "no cycle has run yet",
    series: [{ name: "seconds", values: runs.map(function (r) { return r.seconds; }),
               colors: runs.map(function (r) { return STATUS[r.status] || "var(--muted)"; }) }],
    legend: Object.keys(STATUS).map(function (k) { return { name: k, color: STATUS[k] }; })
  });
  lines("chart-cycle-volume", {
    labels: runLabels, emptyText: "no cycle has run yet",
    series: [{ name: "rows landed", values: runs.map(function (r) { return r.rows_landed; }), color: "var(--c1)" },
             { name: "records pushed", values: runs.map(function (r) { return r.rows_pushed; }), color: "var(--c3)" },
             { name: "records failed", values: runs.map(function (r) { return r.rows_failed; }), color: "var(--c6)" }]
  });

  var ex = data.exceptions.by_sync, syncs = unique(ex.map(function (e) { return e.sync_name; }));
  var reasons = unique(ex.map(function (e) { return e.reason_code; }));
  hbars("chart-exceptions", {
    labels: syncs, emptyText: "no open sync exceptions",
    series: reasons.map(function (reason, k) {
      return { name: reason, color: seriesColor(k), values: syncs.map(function (s) {
        var hit = ex.filter(function (e) { return e.sync_name === s && e.reason_code === reason; })[0];
        return hit ? hit.open : 0; }) };
    })
  });
  var stuck = data.exceptions.stuck;
  hbars("chart-stuck", {
    labels: stuck.map(function (s) { return s.reason_code.replace(/_/g, " "); }), unit: "money",
    emptyText: data.marts_built ? "nothing stuck" : "integration_health not built yet",
    series: [{ name: "past SLA (" + cur + ")", color: "var(--bad)", values: stuck.map(function (s) { return s.breached_at_stake; }) },
             { name: "within SLA (" + cur + ")", color: "var(--c5)",
               values: stuck.map(function (s) { return num(s.at_stake) - num(s.breached_at_stake); }) }]
  });

  var rec = data.reconciliation.filter(function (r) { return r.built; });
  var table = html("table", {}, document.getElementById("reconciliation-table"));
  var head = html("tr", {}, html("thead", {}, table));
  ["", "CRM", "ERP", "PSA"].forEach(function (h, i) { html("th", { "class": i ? "n" : "" }, head, h); });
  var body = html("tbody", {}, table);
  rec.forEach(function (r) {
    var vals = [r.crm, r.erp, r.psa].map(num).filter(function (v) { return v !== null; });
    var differs = vals.length > 1 && Math.max.apply(null, vals) !== Math.min.apply(null, vals);
    var tr = html("tr", { "class": differs ? "differs" : "" }, body);
    html("td", {}, tr, r.label);
    [r.crm, r.erp, r.psa].forEach(function (v) {
      html("td", { "class": "n" }, tr, num(v) === null ? "" : Number(v).toLocaleString("en-US"));
    });
  });
  if (!rec.length) html("p", { "class": "empty" }, document.getElementById("reconciliation-table"), "the marts are not built yet");
  var rm = data.reconciliation_money || { totals: [], customers: [] };
  hbars("chart-reconciliation", {
    labels: rm.totals.map(function (t) { return t.currency_code; }), unit: "money",
    emptyText: data.marts_built ? "no open AR" : "the marts are not built yet",
    series: [{ name: "on CRM accounts", color: "var(--c1)", values: rm.totals.map(function (t) { return t.on_crm_accounts; }) },
             { name: "ERP customers without a CRM account", color: "var(--bad)",
               values: rm.totals.map(function (t) { return t.unmatched_open_ar; }) }]
  });
  dataTable("reconciliation-money", [
    { key: "currency_code", label: "currency" }, { key: "erp_open_ar", label: "ERP open AR", money: true },
    { key: "on_crm_accounts", label: "of which on CRM accounts", money: true },
    { key: "crm_shows", label: "CRM accounts show", money: true },
    { key: "unmatched_open_ar", label: "on ERP customers without a CRM account", money: true },
    { key: "unmatched_customers", label: "unmatched customers", num: true },
    { key: "differing_accounts", label: "accounts that differ", num: true }
  ], rm.totals, data.marts_built ? "no open AR" : "the marts are not built yet");
  dataTable("reconciliation-customers", [
    { key: "finding", label: "finding" }, { key: "currency_code", label: "currency" },
    { key: "customer_name", label: "customer" }, { key: "erp_customer_id", label: "ERP customer id" },
    { key: "crm_account_id", label: "CRM account id" }, { key: "erp_open_ar", label: "ERP open AR", money: true },
    { key: "erp_overdue_ar", label: "ERP overdue", money: true }, { key: "crm_open_ar", label: "CRM shows", money: true }
  ], rm.customers, "every customer's open AR is in the CRM as the ERP holds it");

  var k = data.kpis, h = k.headline || {};
  tiles("kpi-tiles", [
    { value: fmt(num(h.engagements)), label: "engagements" },
    { value: fmt(num(h.sold)) + " " + cur, label: "sold" },
    { value: fmt(num(h.backlog)) + " " + cur, label: "backlog (sold - recognized)" },
    { value: fmt(num(h.burn), "pct"), label: "contract burn (delivered / sold)" },
    { value: fmt(num(h.margin), "pct"), label: "margin % (recognized - cost)" }
  ]);
  bars("chart-burn", { labels: k.burn.map(function (b) { return b.bucket; }), labelChars: 12,
                       series: [{ name: "engagements", values: k.burn.map(function (b) { return b.engagements; }), color: "var(--c1)" }] });
  var months = unique(k.margin.map(function (m) { return m.month; })), entities = unique(k.margin.map(function (m) { return m.legal_entity; }));
  lines("chart-margin", { labels: months, unit: "pct",
    incomplete: months.map(function (mo) { return k.margin.some(function (m) { return m.month === mo && m.incomplete; }); }),
    series: entities.map(function (e, i) {
    return { name: e || "?", color: seriesColor(i), values: months.map(function (mo) {
      var hit = k.margin.filter(function (m) { return m.month === mo && m.legal_entity === e; })[0];
      return hit ? hit.margin : null; }) };
  }) });
  lines("chart-utilization", { labels: k.utilization.map(function (u) { return u.week; }), unit: "pct", minMax: 1,
    incomplete: k.utilization.map(function (u) { return u.incomplete; }),
    series: [{ name: "billable utilization", values: k.utilization.map(function (u) { return u.billable; }), color: "var(--c1)" },
             { name: "total utilization", values: k.utilization.map(function (u) { return u.total; }), color: "var(--c4)" }] });
  bars("chart-aging", { labels: k.aging.map(function (a) { return a.bucket; }), unit: "money", emptyText: "no open invoices",
    series: [{ name: "open balance (" + cur + ")", values: k.aging.map(function (a) { return a.amount; }),
               colors: k.aging.map(function (a, i) { return ["var(--ok)", "var(--c5)", "var(--c2)", "var(--c6)", "var(--bad)"][i] || "var(--bad)"; }) }] });

  var act = data.actions || { overdue_customers: [], credit_holds: [], stuck_money: [] };
  dataTable("table-overdue", [
    { key: "customer_name", label: "customer" }, { key: "crm_account_id", label: "CRM account id" },
    { key: "erp_customer_id", label: "ERP customer id" }, { key: "currency_code", label: "currency" },
    { key: "overdue_ar", label: "overdue", money: true }, { key: "open_ar", label: "open AR", money: true },
    { key: "max_days_past_due", label: "days past due", num: true }, { key: "collection_stage", label: "stage" }
  ], act.overdue_customers, "no customer is overdue");
  dataTable("table-credit-holds", [
    { key: "customer_name", label: "customer" }, { key: "crm_account_id", label: "CRM account id" },
    { key: "erp_customer_id", label: "ERP customer id" }, { key: "currency_code", label: "currency" },
    { key: "open_ar", label: "open AR", money: true }, { key: "credit_limit", label: "credit limit", money: true },
    { key: "credit_hold_override", label: "ERP setting" }, { key: "max_days_past_due", label: "days past due", num: true }
  ], act.credit_holds, "no customer is on credit hold");
  dataTable("table-stuck", [
    { key: "reason_code", label: "reason" }, { key: "source_system", label: "system" },
    { key: "source_object", label: "object" }, { key: "source_record_id", label: "record id" },
    { key: "engagement_id", label: "engagement" }, { key: "customer_name", label: "customer" },
    { key: "currency_code", label: "currency" }, { key: "amount_at_stake", label: "at stake", money: true },
    { key: "days_open", label: "days", num: true }, { key: "is_sla_breached", label: "past SLA" }
  ], act.stuck_money, "no money is stuck between systems");

  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
