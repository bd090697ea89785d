// Balancing dashboard. Polls {base}/stats.json once a second (the JSON of MapLoadBalancerStats, docs/STATS.md), updates
// the page in place and keeps the last five minutes of samples in memory for the charts. Plain script, no dependencies:
// it must run from the balancer alone, with no network and under a strict Content-Security-Policy (no inline code, no
// eval, no style attributes in markup; styles are set through the CSSOM, which that policy allows).
(function () {
  'use strict';

  var POLL_MS = 1000;
  var TIMEOUT_MS = 5000;
  var HISTORY_MS = 5 * 60 * 1000;
  var GAP_MS = 3500; // two missed samples or more: the chart shows a gap rather than a made-up line

  // Series colours for backends, chosen apart from the green/amber/red that mean health.
  var PALETTE = ['#5aa9ff', '#c792ff', '#36d3c4', '#ff8fc7', '#e6d36a', '#ff9f5a', '#8fa8ff', '#9be36a', '#f4a6ff', '#6fe0ff'];

  var script = document.currentScript;
  var base = new URL(script.src, document.baseURI).pathname.replace(/\/assets\/[^/]*$/, '');
  var statsUrl = base + '/stats.json';

  var ui = {
    connection: byId('connection'),
    connectionText: byId('connection-text'),
    pools: byId('pools'),
    empty: byId('empty'),
    generated: byId('generated'),
    host: byId('host'),
    poolTemplate: byId('pool-template'),
    backendTemplate: byId('backend-template'),
    totalRps: byId('total-rps'),
    totalRpsSub: byId('total-rps-sub'),
    totalErrors: byId('total-errors'),
    totalErrorsSub: byId('total-errors-sub'),
    totalAvailable: byId('total-available'),
    totalAvailableSub: byId('total-available-sub'),
    totalAlerts: byId('total-alerts'),
    totalAlertsSub: byId('total-alerts-sub'),
    alertsTile: byId('alerts-tile'),
    totalRetries: byId('total-retries'),
    totalRetriesSub: byId('total-retries-sub')
  };

  var pools = new Map(); // pool name -> view
  var lastSuccess = 0;
  var lastError = '';

  ui.host.textContent = location.host;

  // ---------------------------------------------------------------------------------------------------------------
  // Formatting

  function byId(id) { return document.getElementById(id); }

  function fmtRate(v) {
    if (v === null || v === undefined || !isFinite(v)) { return '–'; }
    if (v === 0) { return '0'; }
    if (v < 10) { return v.toFixed(1); }
    return Math.round(v).toLocaleString('en-US');
  }

  function fmtPercent(v) {
    if (v === null || v === undefined || !isFinite(v)) { return '–'; }
    var p = v * 100;
    if (p === 0) { return '0 %'; }
    if (p < 10) { return p.toFixed(1) + ' %'; }
    return Math.round(p) + ' %';
  }

  function fmtSeconds(s) {
    if (s === null || s === undefined || !isFinite(s)) { return '–'; }
    if (s < 0.001) { return Math.round(s * 1e6) + ' µs'; }
    if (s < 0.01) { return (s * 1000).toFixed(2) + ' ms'; }
    if (s < 1) { return (s * 1000).toFixed(s < 0.1 ? 1 : 0) + ' ms'; }
    return s.toFixed(s < 10 ? 2 : 1) + ' s';
  }

  function fmtInt(v) {
    if (v === null || v === undefined || !isFinite(v)) { return '–'; }
    return Math.round(v).toLocaleString('en-US');
  }

  function fmtAge(ms) {
    if (!isFinite(ms) || ms < 0) { ms = 0; }
    var s = Math.floor(ms / 1000);
    if (s < 60) { return s + 's'; }
    var m = Math.floor(s / 60);
    if (m < 60) { return m + 'm ' + (s % 60) + 's'; }
    var h = Math.floor(m / 60);
    if (h < 24) { return h + 'h ' + (m % 60) + 'm'; }
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }

  function fmtClock(time) {
    return new Date(time).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function set(el, text, value) {
    if (el.textContent !== text) { el.textContent = text; }
    if (value !== undefined) { el.setAttribute('data-value', String(value)); }
  }

  function tone(el, name) {
    el.classList.toggle('bad', name === 'bad');
    el.classList.toggle('warn', name === 'warn');
    el.classList.toggle('good', name === 'good');
  }

  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }

  // ---------------------------------------------------------------------------------------------------------------
  // Charts: one canvas each, drawn from the in-memory history; sized to the device's pixels so lines stay sharp.

  function Chart(canvas, format) {
    this.canvas = canvas;
    this.format = format;
    this.ctx = canvas.getContext('2d');
  }

  Chart.prototype.draw = function (series, now) {
    var canvas = this.canvas;
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth;
    var height = canvas.clientHeight;
    if (width === 0 || height === 0) { return; }
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
    }

    var ctx = this.ctx;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    var from = now - HISTORY_MS;
    var max = 0;
    series.forEach(function (s) {
      s.points.forEach(function (p) { if (p[0] >= from && p[1] !== null && p[1] > max) { max = p[1]; } });
    });
    var top = niceCeiling(max);

    ctx.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
    var labels = [];
    var labelWidth = 0;
    for (var l = 0; l <= 4; l++) {
      labels.push(this.format((top / 4) * l));
      labelWidth = Math.max(labelWidth, ctx.measureText(labels[l]).width);
    }

    var left = Math.ceil(labelWidth) + 14;
    var right = 8;
    var plotTop = 8;
    var bottom = 20;
    var plotWidth = Math.max(10, width - left - right);
    var plotHeight = Math.max(10, height - plotTop - bottom);
    var x = function (t) { return left + ((t - from) / HISTORY_MS) * plotWidth; };
    var y = function (v) { return plotTop + plotHeight - (v / top) * plotHeight; };

    // Grid and labels.
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 1;
    for (var i = 0; i <= 4; i++) {
      var v = (top / 4) * i;
      var gy = Math.round(y(v)) + 0.5;
      ctx.strokeStyle = i === 0 ? '#2c3a5c' : 'rgba(44, 58, 92, 0.55)';
      ctx.beginPath();
      ctx.moveTo(left, gy);
      ctx.lineTo(left + plotWidth, gy);
      ctx.stroke();
      ctx.fillStyle = '#6f7b96';
      ctx.textAlign = 'right';
      ctx.fillText(labels[i], left - 8, gy);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'alphabetic';
    var every = plotWidth < 420 ? 2 : 1; // a narrow chart labels every other minute
    for (var minute = 5; minute >= 0; minute--) {
      if (minute % every !== 0) { continue; }
      var tx = x(now - minute * 60000);
      ctx.fillStyle = '#6f7b96';
      ctx.fillText(minute === 0 ? 'now' : '−' + minute + ' min', Math.min(Math.max(tx, left + 20), left + plotWidth - 14), height - 4);
    }

    // Lines.
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, plotTop - 2, plotWidth + 2, plotHeight + 4);
    ctx.clip();
    ctx.lineJoin = 'round';
    ctx.lineCap = 'round';
    series.forEach(function (s) {
      ctx.strokeStyle = s.color;
      ctx.lineWidth = s.dashed ? 1.5 : 2;
      ctx.setLineDash(s.dashed ? [5, 4] : []);
      ctx.beginPath();
      var open = false;
      var previous = 0;
      s.points.forEach(function (p) {
        if (p[0] < from - GAP_MS) { return; }
        if (p[1] === null) { open = false; return; }
        if (open && p[0] - previous <= GAP_MS) {
          ctx.lineTo(x(p[0]), y(p[1]));
        } else {
          ctx.moveTo(x(p[0]), y(p[1]));
        }
        open = true;
        previous = p[0];
      });
      ctx.stroke();
      // The latest value as a dot, so a single sample is visible too.
      var last = s.points.length ? s.points[s.points.length - 1] : null;
      if (!s.dashed && last && last[1] !== null && now - last[0] <= GAP_MS) {
        ctx.fillStyle = s.color;
        ctx.beginPath();
        ctx.arc(x(last[0]), y(last[1]), 3, 0, Math.PI * 2);
        ctx.fill();
      }
    });
    ctx.restore();
  };

  // The top of the axis: four equal steps of 1, 2, 2.5 or 5 times a power of ten, with some headroom above the data.
  function niceCeiling(v) {
    if (!(v > 0)) { return 1; }
    var step = (v * 1.1) / 4;
    var power = Math.pow(10, Math.floor(Math.log10(step)));
    var multiples = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < multiples.length; i++) {
      if (multiples[i] * power >= step) { return 4 * multiples[i] * power; }
    }
    return 40 * power;
  }

  function axisRate(v) { return v === 0 ? '0' : (v < 10 ? (Math.round(v * 10) / 10).toString() : fmtInt(v)); }

  function axisLatency(v) {
    if (v === 0) { return '0'; }
    if (v < 1) { return (Math.round(v * 10000) / 10) + ' ms'; }
    return (Math.round(v * 100) / 100) + ' s';
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Views

  function createPool(name) {
    var root = ui.poolTemplate.content.firstElementChild.cloneNode(true);
    root.setAttribute('data-pool', name);
    var view = {
      name: name,
      root: root,
      rows: new Map(),
      tbody: root.querySelector('tbody'),
      legend: field(root, 'legend'),
      legendKey: '',
      rateChart: new Chart(root.querySelector('[data-chart="rate"]'), axisRate),
      latencyChart: new Chart(root.querySelector('[data-chart="latency"]'), axisLatency),
      history: { total: [], backends: new Map() },
      fields: {}
    };
    ['name', 'strategy', 'available', 'alert', 'rps10', 'rps60', 'err10', 'err60', 'p50', 'p95', 'p99', 'retries', 'ejections'].forEach(function (f) {
      view.fields[f] = field(root, f);
    });
    set(view.fields.name, name);
    return view;
  }

  function createRow(id) {
    var root = ui.backendTemplate.content.firstElementChild.cloneNode(true);
    root.setAttribute('data-backend', id);
    var view = { id: id, root: root, fields: {} };
    ['swatch', 'id', 'address', 'health', 'since', 'weight', 'inflight', 'rps10', 'rps60', 'err10', 'p50', 'p95', 'p99', 'breaker', 'ejections', 'ejected'].forEach(function (f) {
      view.fields[f] = field(root, f);
    });
    set(view.fields.id, id);
    return view;
  }

  function colorOf(index) { return PALETTE[index % PALETTE.length]; }

  function renderPool(view, pool, now, threshold) {
    var f = view.fields;
    set(f.strategy, pool.strategy);
    var total = pool.backends.length;
    set(f.available, pool.availableBackends + ' of ' + total + ' available', pool.availableBackends);
    tone(f.available, pool.availableBackends === 0 && total > 0 ? 'bad' : (pool.availableBackends < total ? 'warn' : ''));
    f.alert.hidden = !pool.errorRateAlert;
    if (pool.errorRateAlert) {
      set(f.alert, 'Error-rate alert' + (pool.alertSince ? ' · ' + fmtAge(now - Date.parse(pool.alertSince)) : ''));
    }
    view.root.classList.toggle('alert', !!pool.errorRateAlert);
    set(f.rps10, fmtRate(pool.last10Seconds.requestsPerSecond), pool.last10Seconds.requestsPerSecond);
    set(f.rps60, fmtRate(pool.lastMinute.requestsPerSecond), pool.lastMinute.requestsPerSecond);
    set(f.err10, fmtPercent(pool.last10Seconds.errorRate), pool.last10Seconds.errorRate);
    set(f.err60, fmtPercent(pool.lastMinute.errorRate), pool.lastMinute.errorRate);
    tone(f.err10, pool.last10Seconds.errorRate >= threshold && pool.last10Seconds.requests > 0 ? 'bad' : '');
    tone(f.err60, pool.lastMinute.errorRate >= threshold && pool.lastMinute.requests > 0 ? 'bad' : '');
    set(f.p50, fmtSeconds(pool.latency.p50), pool.latency.p50);
    set(f.p95, fmtSeconds(pool.latency.p95), pool.latency.p95);
    set(f.p99, fmtSeconds(pool.latency.p99), pool.latency.p99);
    set(f.retries, fmtInt(pool.retries.lastMinute), pool.retries.lastMinute);
    set(f.ejections, fmtInt(pool.ejections.lastMinute), pool.ejections.lastMinute);

    // Rows, in configuration order; backends that left the configuration go.
    var seen = new Set();
    pool.backends.forEach(function (backend, index) {
      seen.add(backend.id);
      var row = view.rows.get(backend.id);
      if (!row) {
        row = createRow(backend.id);
        view.rows.set(backend.id, row);
      }
      if (view.tbody.children[index] !== row.root) {
        view.tbody.insertBefore(row.root, view.tbody.children[index] || null);
      }
      row.color = colorOf(index);
      renderBackend(row, backend, now, threshold);
    });
    view.rows.forEach(function (row, id) {
      if (!seen.has(id)) {
        row.root.remove();
        view.rows.delete(id);
        view.history.backends.delete(id);
      }
    });

    // History for the charts.
    var h = view.history;
    h.total.push([now, pool.last10Seconds.requestsPerSecond]);
    trim(h.total, now);
    pool.backends.forEach(function (backend) {
      var entry = h.backends.get(backend.id);
      if (!entry) {
        entry = { rate: [], latency: [] };
        h.backends.set(backend.id, entry);
      }
      entry.rate.push([now, backend.last10Seconds.requestsPerSecond]);
      entry.latency.push([now, backend.latency.p99]);
      trim(entry.rate, now);
      trim(entry.latency, now);
    });

    renderLegend(view, pool);
    drawCharts(view, pool, now);
  }

  function renderBackend(row, b, now, threshold) {
    var f = row.fields;
    f.swatch.style.backgroundColor = row.color;
    set(f.address, b.address);
    f.address.title = b.address;

    var health = b.health;
    set(f.health, health, health);
    f.health.className = 'pill ' + (health === 'Healthy' ? 'ok' : health === 'Unhealthy' ? 'bad' : 'unknown');
    set(f.since, b.healthChangedAt ? 'for ' + fmtAge(now - Date.parse(b.healthChangedAt)) : (health === 'Unknown' ? 'not probed' : ''));
    var detail = b.healthChangedAt ? 'Since ' + new Date(b.healthChangedAt).toLocaleString() : '';
    if (b.lastProbe) {
      detail += (detail ? '. ' : '') + 'Last probe ' + (b.lastProbe.healthy ? 'passed' : 'failed') + ': ' + b.lastProbe.description +
        ' in ' + fmtSeconds(b.lastProbe.latency) + ' at ' + fmtClock(b.lastProbe.at);
    }
    f.health.title = detail;
    f.since.title = detail;

    set(f.weight, b.weight === 0 ? '0 (drained)' : fmtInt(b.weight), b.weight);
    set(f.inflight, fmtInt(b.inFlight), b.inFlight);
    set(f.rps10, fmtRate(b.last10Seconds.requestsPerSecond), b.last10Seconds.requestsPerSecond);
    set(f.rps60, fmtRate(b.lastMinute.requestsPerSecond), b.lastMinute.requestsPerSecond);
    set(f.err10, fmtPercent(b.last10Seconds.errorRate), b.last10Seconds.errorRate);
    tone(f.err10, b.errorRateAlert || (b.last10Seconds.requests > 0 && b.last10Seconds.errorRate >= threshold) ? 'bad' : (b.last10Seconds.errors > 0 ? 'warn' : ''));
    f.err10.title = b.errorRateAlert && b.alertSince ? 'Error-rate alert since ' + new Date(b.alertSince).toLocaleString() : '';
    set(f.p50, fmtSeconds(b.latency.p50), b.latency.p50);
    set(f.p95, fmtSeconds(b.latency.p95), b.latency.p95);
    set(f.p99, fmtSeconds(b.latency.p99), b.latency.p99);

    var breaker = b.breakerState === 'HalfOpen' ? 'Half-open' : b.breakerState;
    set(f.breaker, breaker, b.breakerState);
    f.breaker.className = 'pill ' + (b.breakerState === 'Closed' ? 'unknown' : b.breakerState === 'Open' ? 'bad' : 'warn');

    set(f.ejections, fmtInt(b.ejectionCount) + (b.ejections.lastMinute ? ' (' + b.ejections.lastMinute + ' in 1 min)' : ''), b.ejectionCount);
    set(f.ejected, b.ejectedUntil ? 'ejected until ' + fmtClock(b.ejectedUntil) : '');

    row.root.classList.toggle('alert', !!b.errorRateAlert);
    row.root.classList.toggle('down', !b.isAvailable);
    row.root.setAttribute('data-health', health);
    row.root.setAttribute('data-alert', b.errorRateAlert ? 'true' : 'false');
  }

  function renderLegend(view, pool) {
    var key = pool.backends.map(function (b) { return b.id; }).join('\u0000');
    if (key === view.legendKey) { return; }
    view.legendKey = key;
    while (view.legend.firstChild) { view.legend.removeChild(view.legend.firstChild); }
    pool.backends.forEach(function (b, index) {
      var li = document.createElement('li');
      var swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.backgroundColor = colorOf(index);
      li.appendChild(swatch);
      li.appendChild(document.createTextNode(b.id));
      view.legend.appendChild(li);
    });
    var total = document.createElement('li');
    var dash = document.createElement('span');
    dash.className = 'swatch dashed';
    total.appendChild(dash);
    total.appendChild(document.createTextNode('pool ' + pool.name));
    view.legend.appendChild(total);
  }

  function drawCharts(view, pool, now) {
    var h = view.history;
    var rate = [];
    var latency = [];
    pool.backends.forEach(function (b, index) {
      var entry = h.backends.get(b.id);
      rate.push({ color: colorOf(index), points: entry.rate });
      latency.push({ color: colorOf(index), points: entry.latency });
    });
    rate.push({ color: 'rgba(230, 235, 245, 0.55)', points: h.total, dashed: true });
    view.rateChart.draw(rate, now);
    view.latencyChart.draw(latency, now);
    view.lastNow = now;
    view.lastPool = pool;
  }

  function trim(points, now) {
    var from = now - HISTORY_MS - GAP_MS;
    var drop = 0;
    while (drop < points.length && points[drop][0] < from) { drop++; }
    if (drop > 0) { points.splice(0, drop); }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // One snapshot

  function render(data) {
    // Server time throughout: ages ("for 3m 12s") do not depend on this machine's clock.
    var now = Date.parse(data.generatedAt);
    var threshold = data.errorRateThreshold;
    var seen = new Set();
    var requests = 0;
    var errors = 0;
    var rps = 0;
    var rps60 = 0;
    var available = 0;
    var backends = 0;
    var unhealthy = 0;
    var alerts = 0;
    var alertNames = [];
    var retries = 0;
    var retries10 = 0;

    data.pools.forEach(function (pool, index) {
      seen.add(pool.name);
      var view = pools.get(pool.name);
      if (!view) {
        view = createPool(pool.name);
        pools.set(pool.name, view);
      }
      var anchor = ui.pools.children[index + 1] || null; // after the "no pools" paragraph
      if (ui.pools.children[index + 1] !== view.root) {
        ui.pools.insertBefore(view.root, anchor);
      }
      renderPool(view, pool, now, threshold);

      requests += pool.last10Seconds.requests;
      errors += pool.last10Seconds.errors;
      rps += pool.last10Seconds.requestsPerSecond;
      rps60 += pool.lastMinute.requestsPerSecond;
      available += pool.availableBackends;
      backends += pool.backends.length;
      retries += pool.retries.lastMinute;
      retries10 += pool.retries.last10Seconds;
      if (pool.errorRateAlert) { alerts++; alertNames.push('pool ' + pool.name); }
      pool.backends.forEach(function (b) {
        if (b.health === 'Unhealthy') { unhealthy++; }
        if (b.errorRateAlert) { alerts++; alertNames.push(b.id); }
      });
    });
    pools.forEach(function (view, name) {
      if (!seen.has(name)) {
        view.root.remove();
        pools.delete(name);
      }
    });
    ui.empty.hidden = data.pools.length > 0;

    set(ui.totalRps, fmtRate(rps), rps);
    set(ui.totalRpsSub, fmtRate(rps60) + ' over 1 min');
    var rate = requests > 0 ? errors / requests : 0;
    set(ui.totalErrors, fmtPercent(rate), rate);
    set(ui.totalErrorsSub, fmtInt(errors) + ' of ' + fmtInt(requests) + ' requests');
    tone(ui.totalErrors.parentElement, requests > 0 && rate >= threshold ? 'bad' : (errors > 0 ? 'warn' : ''));
    set(ui.totalAvailable, available + ' / ' + backends, available);
    set(ui.totalAvailableSub, unhealthy > 0 ? unhealthy + ' unhealthy' : 'in ' + data.pools.length + (data.pools.length === 1 ? ' pool' : ' pools'));
    tone(ui.totalAvailable.parentElement, backends > 0 && available === 0 ? 'bad' : (available < backends ? 'warn' : (backends > 0 ? 'good' : '')));
    set(ui.totalAlerts, String(alerts), alerts);
    set(ui.totalAlertsSub, alerts > 0 ? alertNames.join(', ') : 'threshold ' + fmtPercent(threshold) + ' over ' + data.errorRateWindow + ' s');
    tone(ui.alertsTile, alerts > 0 ? 'bad' : '');
    set(ui.totalRetries, fmtInt(retries), retries);
    set(ui.totalRetriesSub, fmtInt(retries10) + ' in the last 10 s');
    set(ui.generated, 'Snapshot ' + fmtClock(now));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Polling: one request at a time, the next a second after the previous one started.

  function setConnection(state, text) {
    if (ui.connection.getAttribute('data-state') !== state) { ui.connection.setAttribute('data-state', state); }
    set(ui.connectionText, text);
    document.body.classList.toggle('stale', state === 'down');
  }

  function poll() {
    var started = Date.now();
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    fetch(statsUrl, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' }, signal: controller.signal })
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        lastSuccess = Date.now();
        lastError = '';
        setConnection('live', 'Live');
      })
      .catch(function (error) {
        lastError = error && error.name === 'AbortError' ? 'timed out' : (error && error.message) || 'unreachable';
        var age = lastSuccess ? ' · last update ' + fmtAge(Date.now() - lastSuccess) + ' ago' : '';
        setConnection('down', 'Disconnected (' + lastError + ')' + age);
      })
      .then(function () {
        clearTimeout(timer);
        setTimeout(poll, Math.max(0, POLL_MS - (Date.now() - started)));
      });
  }

  // Charts follow the page's width.
  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      pools.forEach(function (view) {
        if (view.lastPool) { drawCharts(view, view.lastPool, view.lastNow); }
      });
    }, 100);
  });

  poll();
}());
