// pshub report: draws the page's charts as inline SVG from the JSON in #report-data. No libraries, no network.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["var(--c1)", "var(--c2)", "var(--c3)", "var(--c4)", "var(--c5)", "var(--c6)"];
  var STATUS = { succeeded: "var(--ok)", partial: "var(--warn)", failed: "var(--bad)", skipped: "var(--muted)" };
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var drawn = 0;

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
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
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function legend(container, series) {
    var box = html("div", { "class": "legend" }, container);
    series.forEach(function (s) {
      var item = html("span", {}, box);
      html("i", { style: "background:" + s.color }, item);
      item.appendChild(document.createTextNode(s.name));
    });
  }
  function frame(id, width, height) {
    var container = document.getElementById(id);
    container.textContent = "";
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, role: "img" }, container);
    return { container: container, svg: svg };
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
    var f = frame(id, 400, 60);
    el("text", { x: 8, y: 34, "class": "empty" }, f.svg, message);
    f.container.setAttribute("data-empty", "true");
    done(f, 0);
  }

  // Vertical bars; series stacked. opts: labels, series [{name, values, color|colors}], unit, labelEvery
  function bars(id, opts) {
    var W = 560, H = 240, L = 52, R = 10, T = 10, B = 42;
    var n = opts.labels.length;
    if (!n) return empty(id, opts.emptyText || "no data yet");
    if (!anyValue(opts.series, true)) return empty(id, NOTHING_IN_PERIOD);
    var totals = opts.labels.map(function (_, i) {
      return opts.series.reduce(function (s, ser) { return s + Math.max(num(ser.values[i]) || 0, 0); }, 0);
    });
    var max = niceMax(Math.max.apply(null, totals.concat([opts.minMax || 0])));
    var f = frame(id, W, H), plotW = W - L - R, plotH = H - T - B, step = plotW / n, bw = Math.max(step * 0.7, 1);
    var grid = el("g", { "class": "grid axis" }, f.svg);
    for (var g = 0; g <= 4; g++) {
      var gy = T + plotH - plotH * g / 4;
      el("line", { x1: L, x2: W - R, y1: gy, y2: gy }, grid);
      el("text", { x: L - 6, y: gy + 4, "text-anchor": "end" }, grid, fmt(max * g / 4, opts.unit));
    }
    var marks = 0, every = Math.max(1, Math.ceil(n / (opts.maxLabels || 12)));
    opts.labels.forEach(function (label, i) {
      var base = T + plotH, x = L + step * i + (step - bw) / 2;
      opts.series.forEach(function (ser, s) {
        var v = Math.max(num(ser.values[i]) || 0, 0), h = plotH * v / max;
        if (h <= 0) return;
        var color = ser.colors ? ser.colors[i] : ser.color;
        var r = el("rect", { x: x, y: base - h, width: bw, height: h, fill: color, "class": "mark" }, f.svg);
        el("title", {}, r, label + " · " + ser.name + ": " + fmt(v, opts.unit));
        base -= h; marks += 1;
      });
      if (i % every === 0) {
        el("text", { x: L + step * i + step / 2, y: H - B + 14, "text-anchor": "middle", "class": "axis" },
           f.svg, String(label).slice(0, opts.labelChars || 10));
      }
    });
    if (opts.series.length > 1 || opts.legend) legend(f.container, opts.legend || opts.series);
    done(f, marks);
  }

  // Horizontal stacked bars, one row per label (long labels fit on the left).
  function hbars(id, opts) {
    var n = opts.labels.length;
    if (!n) return empty(id, opts.emptyText || "nothing open");
    if (!anyValue(opts.series, true)) return empty(id, NOTHING_IN_PERIOD);
    var W = 560, L = 200, R = 60, T = 6, row = 24, H = T + row * n + 24;
    var totals = opts.labels.map(function (_, i) {
      return opts.series.reduce(function (s, ser) { return s + Math.max(num(ser.values[i]) || 0, 0); }, 0);
    });
    var max = niceMax(Math.max.apply(null, totals)), plotW = W - L - R;
    var f = frame(id, W, H), marks = 0;
    opts.labels.forEach(function (label, i) {
      var y = T + row * i, x = L;
      el("text", { x: L - 6, y: y + row / 2 + 4, "text-anchor": "end" }, f.svg, String(label).slice(0, 34));
      opts.series.forEach(function (ser) {
        var v = Math.max(num(ser.values[i]) || 0, 0), w = plotW * v / max;
        if (w <= 0) return;
        var r = el("rect", { x: x, y: y + 4, width: w, height: row - 8, fill: ser.color, "class": "mark" }, f.svg);
        el("title", {}, r, label + " · " + ser.name + ": " + fmt(v, opts.unit));
        x += w; marks += 1;
      });
      el("text", { x: x + 4, y: y + row / 2 + 4, "class": "axis" }, f.svg, fmt(totals[i], opts.unit));
    });
    if (opts.series.length > 1) legend(f.container, opts.series);
    done(f, marks);
  }

  // Lines over shared x labels. opts: labels, series [{name, values, color}], unit
  function lines(id, opts) {
    var n = opts.labels.length;
    if (!n) return empty(id, opts.emptyText || "no data yet");
    if (!anyValue(opts.series, false)) return empty(id, NOTHING_IN_PERIOD);
    var W = 560, H = 240, L = 52, R = 10, T = 10, B = 42, plotW = W - L - R, plotH = H - T - B;
    var all = [];
    opts.series.forEach(function (s) { s.values.forEach(function (v) { if (num(v) !== null) all.push(num(v)); }); });
    var lo = Math.min(0, Math.min.apply(null, all.concat([0]))), hi = niceMax(Math.max.apply(null, all.concat([opts.minMax || 0])));
    var f = frame(id, W, H), marks = 0;
    function X(i) { return L + (n === 1 ? plotW / 2 : plotW * i / (n - 1)); }
    function Y(v) { return T + plotH - plotH * (v - lo) / (hi - lo || 1); }
    var grid = el("g", { "class": "grid axis" }, f.svg);
    for (var g = 0; g <= 4; g++) {
      var v = lo + (hi - lo) * g / 4;
      el("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v) }, grid);
      el("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end" }, grid, fmt(v, opts.unit));
    }
    var every = Math.max(1, Math.ceil(n / 8));
    opts.labels.forEach(function (label, i) {
      if (i % every === 0) el("text", { x: X(i), y: H - B + 14, "text-anchor": "middle", "class": "axis" }, f.svg, String(label).slice(0, 10));
    });
    opts.series.forEach(function (ser) {
      var d = "";
      ser.values.forEach(function (v, i) {
        if (num(v) === null) return;
        d += (d ? " L " : "M ") + X(i).toFixed(1) + " " + Y(num(v)).toFixed(1);
        var c = el("circle", { cx: X(i), cy: Y(num(v)), r: 2.5, fill: ser.color, "class": "mark" }, f.svg);
        el("title", {}, c, opts.labels[i] + " · " + ser.name + ": " + fmt(num(v), opts.unit));
        marks += 1;
      });
      if (d) el("path", { d: d, fill: "none", stroke: ser.color, "stroke-width": 2 }, f.svg);
    });
    legend(f.container, opts.series);
    done(f, marks);
  }

  function tiles(id, items) {
    var box = document.getElementById(id);
    items.forEach(function (t) {
      var tile = html("div", { "class": "tile" }, box);
      html("b", {}, tile, t.value);
      html("span", {}, tile, t.label);
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
      return { name: reason, color: COLORS[k % COLORS.length], values: syncs.map(function (s) {
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
  // bars relative to the largest system's figure, so rows of different units share one axis
  hbars("chart-reconciliation", {
    labels: rec.map(function (r) { return r.label.split(":")[0]; }), unit: "pct", emptyText: "the marts are not built yet",
    series: [["CRM", "crm", "var(--c1)"], ["ERP", "erp", "var(--c2)"], ["PSA", "psa", "var(--c3)"]].map(function (s) {
      return { name: s[0] + " (share of the largest system's figure, stacked)", color: s[2], values: rec.map(function (r) {
        var m = Math.max(num(r.crm) || 0, num(r.erp) || 0, num(r.psa) || 0);
        return m > 0 && num(r[s[1]]) !== null ? num(r[s[1]]) / m : 0; }) };
    })
  });

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
  lines("chart-margin", { labels: months, unit: "pct", series: entities.map(function (e, i) {
    return { name: e || "?", color: COLORS[i % COLORS.length], values: months.map(function (mo) {
      var hit = k.margin.filter(function (m) { return m.month === mo && m.legal_entity === e; })[0];
      return hit ? hit.margin : null; }) };
  }) });
  lines("chart-utilization", { labels: k.utilization.map(function (u) { return u.week; }), unit: "pct", minMax: 1,
    series: [{ name: "billable utilization", values: k.utilization.map(function (u) { return u.billable; }), color: "var(--c1)" },
             { name: "total utilization", values: k.utilization.map(function (u) { return u.total; }), color: "var(--c4)" }] });
  bars("chart-aging", { labels: k.aging.map(function (a) { return a.bucket; }), unit: "money", emptyText: "no open invoices",
    series: [{ name: "open balance (" + cur + ")", values: k.aging.map(function (a) { return a.amount; }),
               colors: k.aging.map(function (a, i) { return ["var(--ok)", "var(--c5)", "var(--c2)", "var(--c6)", "var(--bad)"][i] || "var(--bad)"; }) }] });

  document.body.setAttribute("data-charts-drawn", String(drawn));
})();
