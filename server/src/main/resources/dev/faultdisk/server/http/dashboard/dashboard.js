// The faultdisk dashboard: polls the HTTP API once a second, charts each export's IOPS,
// throughput and latency percentiles, lists rules, held requests, breakpoints and the write
// cache, and follows the event stream. Plain script, no build step; uPlot draws the charts.
'use strict';
(function () {
  const WINDOW = 120; // samples (seconds) each chart keeps
  const EVENTS_KEPT = 100;
  const EVENT_NAMES = ['BLOCK_IO_ERROR', 'BLKDEBUG_SUSPENDED', 'BLKDEBUG_RESUMED', 'POWER_FAIL',
    'FAULT_INJECTED', 'FAULT_RELEASED', 'TRIGGER_FIRED'];

  // A server started with a secret: open the page as .../#secret=SECRET once; the tab keeps it.
  const fromHash = /(?:^#|&)secret=([^&]+)/.exec(location.hash);
  if (fromHash) {
    sessionStorage.setItem('faultdisk-secret', decodeURIComponent(fromHash[1]));
    history.replaceState(null, '', location.pathname);
  }
  const secret = sessionStorage.getItem('faultdisk-secret');

  async function call(command, args) {
    const headers = { 'Content-Type': 'application/json' };
    if (secret) headers.Authorization = 'Bearer ' + secret;
    const response = await fetch('api/v1/' + command, {
      method: 'POST', headers, body: JSON.stringify(args || {}),
    });
    const reply = await response.json();
    if (reply.error) throw new Error(reply.error.class + ': ' + reply.error.desc);
    return reply.return;
  }

  const $ = (selector, root) => (root || document).querySelector(selector);
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k.startsWith('data-')) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }
  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n : n.toFixed(1)) + ' ' + units[i];
  }
  function ms(seconds) {
    if (seconds == null) return '–';
    return seconds < 0.001 ? (seconds * 1e6).toFixed(0) + ' µs' : (seconds * 1e3).toFixed(2) + ' ms';
  }
  // Rebuilds a table only when its data changed, so that a button or a select stays put under the pointer.
  function fillTable(table, data, makeRows, emptyText, columns) {
    const key = JSON.stringify(data);
    if (table.dataset.key === key) return;
    table.dataset.key = key;
    const rows = makeRows();
    const body = $('tbody', table);
    body.replaceChildren();
    if (rows.length === 0) {
      body.append(el('tr', { class: 'empty' }, el('td', { colSpan: columns }, emptyText)));
      return;
    }
    for (const r of rows) body.append(r);
  }
  function act(button, work) {
    button.disabled = true;
    work().catch((e) => showError(e)).finally(() => { button.disabled = false; refresh(); });
  }
  function showError(e) {
    const status = $('#status');
    status.textContent = e.message;
    status.classList.add('down');
  }

  // ---- per-export charts ----
  const exportsShown = new Map(); // name -> view

  // The q-quantile of a histogram's bucket counts, interpolated inside the bucket as Prometheus' histogram_quantile does.
  function quantile(q, bounds, counts) {
    const total = counts.reduce((a, b) => a + b, 0);
    if (total === 0) return null;
    const rank = q * total;
    let seen = 0;
    for (let i = 0; i < counts.length; i++) {
      if (seen + counts[i] >= rank && counts[i] > 0) {
        const lower = i === 0 ? 0 : bounds[i - 1];
        const upper = i < bounds.length ? bounds[i] : bounds[bounds.length - 1];
        return lower + (upper - lower) * ((rank - seen) / counts[i]);
      }
      seen += counts[i];
    }
    return bounds[bounds.length - 1];
  }

  function chart(parent, title, series, unit) {
    const box = el('div', { class: 'chart' });
    const head = el('div', {}, el('strong', {}, title), ' ', el('span', { class: 'now' }, ''));
    box.append(head);
    parent.append(box);
    const width = Math.max(240, box.clientWidth || 360);
    const clock = (t) => new Date(t * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const plot = new uPlot({
      width, height: 130,
      legend: { live: false },
      scales: { x: { time: true } },
      axes: [{ space: 70, values: (u, ticks) => ticks.map(clock) }, { size: 72, values: (u, ticks) => ticks.map((v) => unit(v)) }],
      series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 1.5, spanGaps: false, value: (u, v) => unit(v) }))],
    }, [[], ...series.map(() => [])], box);
    return { box, plot, now: $('.now', head) };
  }

  function addExport(name) {
    const card = el('section', { class: 'export', 'data-export': name });
    card.append(el('h2', {}, name, el('span', { class: 'description' }, '')));
    const charts = el('div', { class: 'charts' });
    card.append(charts);
    $('#exports').append(card);
    const count = (v) => (v == null ? '–' : v >= 1000 ? (v / 1000).toFixed(1) + 'k' : v.toFixed(0));
    const view = {
      card,
      t: [], iops: [[], [], []], mbps: [[], []], lat: [[], [], []],
      last: null,
      iopsChart: chart(charts, 'IOPS', [['read', '#2b6cb0'], ['write', '#c05621'], ['other', '#718096']], count),
      mbpsChart: chart(charts, 'Throughput (MiB/s)', [['read', '#2b6cb0'], ['write', '#c05621']], (v) => (v == null ? '–' : v.toFixed(1))),
      latChart: chart(charts, 'Latency', [['p50', '#2f855a'], ['p90', '#b7791f'], ['p99', '#c53030']], ms),
    };
    exportsShown.set(name, view);
    for (const select of document.querySelectorAll('.export-select')) {
      select.append(el('option', { value: name }, name));
    }
    return view;
  }

  function removeExport(name) {
    exportsShown.get(name).card.remove();
    exportsShown.delete(name);
    for (const option of document.querySelectorAll('.export-select option')) {
      if (option.value === name) option.remove();
    }
  }

  function sample(view, now, stats, latency, bounds) {
    const ops = {};
    for (const [op, c] of Object.entries(stats)) ops[op] = c;
    const counts = latency ? mergeCounts(latency.ops) : null;
    const current = { now, ops, counts };
    const last = view.last;
    view.last = current;
    if (!last) return;
    const dt = (now - last.now) / 1000;
    if (dt <= 0) return;
    const rate = (op, what) => Math.max(0, (ops[op][what] - last.ops[op][what]) / dt);
    const reads = rate('read', 'operations');
    const writes = rate('write', 'operations');
    const other = ['flush', 'trim', 'write-zeroes', 'extents'].reduce((s, op) => s + (ops[op] ? rate(op, 'operations') : 0), 0);
    view.t.push(now / 1000);
    view.iops[0].push(reads); view.iops[1].push(writes); view.iops[2].push(other);
    view.mbps[0].push(rate('read', 'bytes') / 1048576); view.mbps[1].push(rate('write', 'bytes') / 1048576);
    let p = [null, null, null];
    if (counts && last.counts) {
      const delta = counts.map((c, i) => Math.max(0, c - last.counts[i]));
      p = [0.5, 0.9, 0.99].map((q) => quantile(q, bounds, delta));
    }
    p.forEach((v, i) => view.lat[i].push(v));
    if (view.t.length > WINDOW) {
      view.t.shift();
      for (const s of [...view.iops, ...view.mbps, ...view.lat]) s.shift();
    }
    const total = reads + writes + other;
    view.card.dataset.iops = total.toFixed(1);
    view.card.dataset.samples = String(view.t.length);
    view.iopsChart.now.textContent = total.toFixed(0) + ' now';
    view.mbpsChart.now.textContent = (view.mbps[0].at(-1) + view.mbps[1].at(-1)).toFixed(1) + ' now';
    view.latChart.now.textContent = p[2] == null ? 'no requests' : 'p99 ' + ms(p[2]);
    view.iopsChart.plot.setData([view.t, ...view.iops]);
    view.mbpsChart.plot.setData([view.t, ...view.mbps]);
    view.latChart.plot.setData([view.t, ...view.lat]);
  }

  function mergeCounts(ops) {
    let merged = null;
    for (const op of ops) {
      if (!merged) merged = op.counts.slice();
      else op.counts.forEach((c, i) => { merged[i] += c; });
    }
    return merged;
  }

  window.addEventListener('resize', () => {
    for (const view of exportsShown.values()) {
      for (const c of [view.iopsChart, view.mbpsChart, view.latChart]) {
        c.plot.setSize({ width: Math.max(240, c.box.clientWidth), height: 130 });
      }
    }
  });

  // ---- tables ----
  function renderFaults(rules) {
    const shown = rules.map((r) => ({ device: r.device, id: r.id, type: r.type, ops: r.rule.ops, state: r.state, fired: r.fired }));
    fillTable($('#faults'), shown, () => rules.map((r) => el('tr', { 'data-rule': r.id },
      el('td', {}, r.device), el('td', { class: 'num' }, r.id), el('td', {}, r.type),
      el('td', {}, (r.rule.ops || []).join(', ')), el('td', {}, r.state),
      el('td', { class: 'num fired' }, r.fired),
      el('td', {}, el('button', {
        class: 'remove-rule', 'data-id': r.id,
        onclick: (e) => act(e.target, () => call('fault-remove', { device: r.device, ids: [r.id] })),
      }, 'remove')))), 'no fault rules', 7);
  }

  function renderHeld(held) {
    fillTable($('#held'), held, () => held.map((h) => el('tr', { 'data-held': h.id },
      el('td', {}, h.device), el('td', { class: 'num' }, h.id), el('td', {}, h.operation),
      el('td', { class: 'num' }, h.offset), el('td', { class: 'num' }, h.length), el('td', {}, h.since),
      el('td', {},
        el('button', { class: 'release', 'data-id': h.id,
          onclick: (e) => act(e.target, () => call('fault-release', { device: h.device, ids: [h.id] })) }, 'release'),
        ' ',
        el('button', { class: 'fail danger', 'data-id': h.id,
          onclick: (e) => act(e.target, () => call('fault-release', { device: h.device, ids: [h.id], errno: 'EIO' })) }, 'fail EIO')))),
    'no held requests', 7);
  }

  function renderBlkdebug(perExport) {
    const rules = [];
    const points = [];
    for (const [device, info] of perExport) {
      for (const r of info.rules.rules) {
        rules.push(el('tr', {}, el('td', {}, device), el('td', { class: 'num' }, info.rules.state),
          el('td', {}, r.type + ' on ' + r.event + (r.type === 'inject-error' ? ' errno ' + r.errno : ' → state ' + r.new_state))));
      }
      for (const b of info.breakpoints.breakpoints) {
        const suspended = info.breakpoints.suspended.filter((s) => s.tag === b.tag);
        points.push(el('tr', { 'data-tag': b.tag }, el('td', {}, device), el('td', {}, b.tag), el('td', {}, b.event),
          el('td', { class: 'num' }, suspended.length),
          el('td', {},
            suspended.length ? el('button', { class: 'resume',
              onclick: (e) => act(e.target, () => call('blkdebug-resume', { device, tag: b.tag })) }, 'resume') : '',
            ' ',
            el('button', { class: 'danger',
              onclick: (e) => act(e.target, () => call('blkdebug-remove-breakpoint', { device, tag: b.tag })) }, 'remove'))));
      }
    }
    fillTable($('#blkdebug-rules'), perExport.map(([d, i]) => [d, i.rules]), () => rules, 'no blkdebug rules', 3);
    fillTable($('#breakpoints'), perExport.map(([d, i]) => [d, i.breakpoints]), () => points, 'no breakpoints', 5);
  }

  function renderCaches(caches) {
    const shown = caches.map((c) => [c.device, c.mode, c['dirty-bytes'], c.flushes, c['power-fails']]);
    fillTable($('#caches'), shown, () => caches.map((c) => {
      const mode = el('select', { class: 'cache-mode', 'data-device': c.device,
        onchange: (e) => act(e.target, () => call('write-cache-set-mode', { device: c.device, mode: e.target.value })) },
      ...['writethrough', 'writeback', 'lying-flush'].map((m) => el('option', { value: m, selected: m === c.mode }, m)));
      return el('tr', { 'data-cache': c.device },
        el('td', {}, c.device), el('td', {}, mode),
        el('td', { class: 'num dirty' }, bytes(c['dirty-bytes'])),
        el('td', { class: 'num' }, c.flushes), el('td', { class: 'num' }, c['power-fails']),
        el('td', {}, el('button', { class: 'power-fail danger', 'data-device': c.device,
          onclick: (e) => {
            if (!confirm('Cut the power of ' + c.device + '? Its connections drop and unflushed writes are lost.')) return;
            act(e.target, () => call('power-fail', { device: c.device }));
          } }, 'power fail')));
    }), 'no exports', 6);
  }

  // ---- the loop ----
  let refreshing = false;
  async function refresh() {
    if (refreshing) return;
    refreshing = true;
    try {
      const now = Date.now();
      const [block, stats, latency, faults, held] = await Promise.all([
        call('query-block'), call('query-blockstats'), call('query-latency').catch(() => null),
        call('query-faults'), call('query-held-requests')]);
      const names = block.map((b) => b.device);
      for (const name of [...exportsShown.keys()]) if (!names.includes(name)) removeExport(name);
      for (const b of block) {
        const view = exportsShown.get(b.device) || addExport(b.device);
        $('.description', view.card).textContent = b.inserted && b.inserted.file ? b.inserted.file : '';
      }
      const bounds = latency ? latency.bounds : [];
      for (const s of stats) {
        const lat = latency ? latency.exports.find((e) => e.device === s.device) : null;
        sample(exportsShown.get(s.device), now, s.stats, lat, bounds);
      }
      renderFaults(faults);
      renderHeld(held);
      const perExport = await Promise.all(names.map(async (device) => [device, {
        rules: await call('query-blkdebug-rules', { device }),
        breakpoints: await call('query-blkdebug-breakpoints', { device }),
        cache: await call('query-write-cache', { device }),
      }]));
      renderBlkdebug(perExport);
      renderCaches(perExport.map(([, info]) => info.cache));
      const status = $('#status');
      status.textContent = 'live · ' + new Date(now).toLocaleTimeString() + (latency ? '' : ' · latency not recorded');
      status.classList.remove('down');
    } catch (e) {
      showError(e);
    } finally {
      refreshing = false;
    }
  }

  $('#fault-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = e.target;
    const error = $('#fault-error');
    error.textContent = '';
    let rule;
    try {
      rule = JSON.parse(form.params.value || '{}');
    } catch (x) {
      error.textContent = 'parameters: ' + x.message;
      return;
    }
    rule.type = form.type.value;
    const ops = form.ops.value.split(',').map((s) => s.trim()).filter((s) => s);
    if (ops.length) rule.ops = ops;
    const button = $('#fault-add');
    button.disabled = true;
    call('fault-add', { device: form.device.value, rules: [rule] })
      .catch((x) => { error.textContent = x.message; })
      .finally(() => { button.disabled = false; refresh(); });
  });
  const defaults = { delay: '{"ms": 10}', error: '{"errno": "EIO"}', hang: '{}', throttle: '{"bytes-per-second": 1048576}' };
  $('#fault-type').addEventListener('change', (e) => { $('#fault-params').value = defaults[e.target.value] || '{}'; });

  // ---- events ----
  const pending = [];
  function followEvents() {
    const source = new EventSource('api/v1/events' + (secret ? '?access_token=' + encodeURIComponent(secret) : ''));
    const take = (m) => pending.push(JSON.parse(m.data));
    for (const name of EVENT_NAMES) source.addEventListener(name, take);
    source.onmessage = take;
  }
  function renderEvents() {
    if (pending.length === 0) return;
    const list = $('#events');
    for (const ev of pending.splice(0, pending.length).slice(-EVENTS_KEPT)) {
      const t = new Date(ev.timestamp.seconds * 1000 + ev.timestamp.microseconds / 1000);
      list.prepend(el('li', { 'data-event': ev.event }, t.toLocaleTimeString() + ' ',
        el('span', { class: 'name' }, ev.event), ' ', JSON.stringify(ev.data || {})));
    }
    while (list.children.length > EVENTS_KEPT) list.lastChild.remove();
  }

  followEvents();
  refresh();
  setInterval(refresh, 1000);
  setInterval(renderEvents, 500);
})();
