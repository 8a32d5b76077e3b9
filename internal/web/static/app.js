// tune dashboard: plain JavaScript, no build step. Each page polls its JSON
// endpoint with If-None-Match and redraws only when the answer changed.
// Test hooks: document.body.dataset.ready is "true" after the first render
// and dataset.renders counts renders; window.tuneCharts holds the ECharts
// instances by name and window.tuneView what the page shows.
'use strict';
(function () {
  const POLL_MS = 1500;
  const PAGE_ROWS = 100;
  const $ = (sel, root) => (root || document).querySelector(sel);
  window.tuneCharts = {};
  window.tuneView = {};

  // el builds an element; children are nodes or text (never parsed as HTML).
  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k.startsWith('data-')) e.dataset[k.slice(5).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = v;
      else e.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) e.append(k instanceof Node ? k : String(k));
    return e;
  }

  // fmt rounds numbers for reading (4 significant digits); the full value
  // goes in the cell's title and data-value.
  function fmt(v) {
    if (v == null) return '';
    if (typeof v !== 'number') return String(v);
    if (!isFinite(v)) return '';
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    const a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
    return String(+v.toPrecision(4));
  }
  function fmtDuration(s) {
    if (s == null || !isFinite(s)) return '';
    if (s < 60) return s.toFixed(s < 10 ? 2 : 1) + 's';
    const m = Math.floor(s / 60), h = Math.floor(m / 60);
    if (h > 0) return h + 'h' + String(m % 60).padStart(2, '0') + 'm';
    return m + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
  }
  function fmtTime(t) {
    if (!t || t.startsWith('0001-')) return '';
    return new Date(t).toLocaleString();
  }
  const enc = encodeURIComponent;
  const finalStates = new Set(['Succeeded', 'Failed', 'Killed', 'MetricsUnavailable', 'EarlyStopped']);

  function setError(msg) {
    const e = $('#error');
    if (!e) return;
    e.hidden = !msg;
    e.textContent = msg || '';
  }

  // poll fetches url now and every POLL_MS, calling onData with each new
  // body; a 304 (same ETag) calls nothing.
  function poll(url, onData, first) {
    let etag = null;
    const tick = async () => {
      try {
        const headers = etag ? { 'If-None-Match': etag } : {};
        const r = await (first || fetch(url, { headers, cache: 'no-store' }));
        first = null;
        await domReady;
        if (r.status === 304) {
          setError(null);
        } else if (r.ok) {
          const body = await r.json();
          etag = r.headers.get('ETag');
          setError(null);
          onData(body);
        } else {
          const b = await r.json().catch(() => ({ error: r.status + ' ' + r.statusText }));
          setError(b.error || r.statusText);
        }
        const live = $('#live');
        if (live) live.textContent = 'live · checked ' + new Date().toLocaleTimeString();
      } catch (e) {
        setError('cannot reach tune ui (' + e.message + '); retrying');
        console.error(e);
      }
      setTimeout(tick, document.hidden ? POLL_MS * 4 : POLL_MS);
    };
    tick();
  }

  // tableMs: from navigation to the first trial table drawn, after the next
  // frame; the charts then draw one per task, so input is answered from here.
  function markTable() {
    const b = document.body.dataset;
    if (b.tableMs) return;
    requestAnimationFrame(() => setTimeout(() => { b.tableMs = String(Math.round(performance.now())); }, 0));
  }

  function rendered() {
    const b = document.body.dataset;
    b.renders = String(Number(b.renders || 0) + 1);
    if (b.ready) return;
    // readyMs: from navigation to the first render drawn (after the next frame).
    requestAnimationFrame(() => setTimeout(() => {
      b.readyMs = String(Math.round(performance.now()));
      b.ready = 'true';
    }, 0));
  }

  function chart(id) {
    if (window.tuneCharts[id]) return window.tuneCharts[id];
    const c = echarts.init(document.getElementById('chart-' + id), null, { renderer: 'canvas' });
    window.tuneCharts[id] = c;
    window.addEventListener('resize', () => c.resize());
    return c;
  }

  function badge(node, phase) {
    node.textContent = phase || '';
    node.className = 'badge st-' + (phase || '');
  }

  // ---------------------------------------------------------------- index

  function indexPage(first) {
    poll('/api/experiments', (exps) => {
      const tb = $('#experiments tbody');
      tb.replaceChildren(...exps.map((e) => {
        const pct = e.budget > 0 ? Math.min(100, 100 * e.finished / e.budget) : 0;
        const bar = el('div', { class: 'bar' });
        bar.style.width = pct + '%';
        return el('tr', { 'data-name': e.name },
          el('td', {}, el('a', { href: '/experiments/' + enc(e.name), text: e.name })),
          el('td', {}, el('span', { class: 'st-' + e.phase, text: e.phase + (e.reason ? ' (' + e.reason + ')' : '') })),
          el('td', { class: 'progress-cell' }, el('div', { class: 'progress' }, bar),
            el('span', { class: 'progress-text', text: e.finished + '/' + (e.budget || '∞') + (e.counts.running ? ', ' + e.counts.running + ' running' : '') })),
          el('td', { class: 'num best-value', title: e.bestValue == null ? null : String(e.bestValue), 'data-value': e.bestValue == null ? null : String(e.bestValue), text: fmt(e.bestValue) }),
          el('td', {}, e.bestTrial ? el('a', { href: '/experiments/' + enc(e.name) + '/trials/' + enc(e.bestTrial), text: e.bestTrial }) : ''),
          el('td', { text: e.objective + ' (' + e.goal + ')' }),
          el('td', { text: e.algorithm }),
          el('td', { text: fmtTime(e.created) }));
      }));
      $('#empty').hidden = exps.length > 0;
      window.tuneView.experiments = exps.length;
      rendered();
    }, first);
  }

  // ----------------------------------------------------------- experiment

  function experimentPage(first) {
    const name = decodeURIComponent(location.pathname.split('/')[2]);
    document.title = 'tune · ' + name;
    $('#crumb').textContent = name;
    const st = {
      d: null, sort: { key: 'seq', desc: false }, filter: [], status: '', shown: PAGE_ROWS,
      selected: new Set(), brushed: null, sliceParam: null, curveMetric: null, curveSeq: 0,
      contour: null, contourChosen: false, importance: null, importanceFor: -1,
    };
    window.tuneView.state = st;

    $('#filter').addEventListener('input', () => {
      try {
        st.filter = parseFilter($('#filter').value, st.d);
        $('#filter-error').textContent = '';
      } catch (e) {
        $('#filter-error').textContent = e.message;
        return;
      }
      st.shown = PAGE_ROWS;
      renderTable(st);
    });
    $('#status-filter').addEventListener('change', () => { st.status = $('#status-filter').value; st.shown = PAGE_ROWS; renderTable(st); });
    $('#more').addEventListener('click', () => { st.shown += PAGE_ROWS * 5; renderTable(st); });
    $('#compare-btn').addEventListener('click', () => { renderCompare(st); $('#compare').scrollIntoView(); });
    $('#clear-btn').addEventListener('click', () => { st.selected.clear(); renderTable(st); renderCompare(st); loadCurves(st); });
    $('#slice-param').addEventListener('change', () => { st.sliceParam = $('#slice-param').value; renderSlice(st); });
    $('#curve-metric').addEventListener('change', () => { st.curveMetric = $('#curve-metric').value; loadCurves(st); });
    for (const id of ['#contour-x', '#contour-y']) {
      $(id).addEventListener('change', () => {
        st.contour = [$('#contour-x').value, $('#contour-y').value];
        st.contourChosen = true;
        renderContour(st);
      });
    }

    poll('/api/experiments/' + enc(name), (d) => {
      const first = !st.d;
      st.d = d;
      if (first) setupExperiment(st);
      try { st.filter = parseFilter($('#filter').value, d); } catch (e) { /* keep the last good filter */ }
      // The table first, then one chart per task, so that the page answers
      // input between charts. Timings of the last render, in ms, are kept
      // for tests and the docs' figures.
      const gen = st.gen = (st.gen || 0) + 1;
      const tm = window.tuneView.timings = {};
      const timed = (k, f) => { const t0 = performance.now(); f(); tm[k] = Math.round(performance.now() - t0); };
      if (!window.tuneCharts.history) timed('init', () => ['history', 'parallel', 'slice', 'contour', 'edf', 'curves'].forEach(chart));
      timed('head', () => renderHead(d));
      timed('table', () => renderTable(st));
      markTable();
      if (!$('#compare').hidden) renderCompare(st);
      const steps = [['history', renderHistory], ['parallel', renderParallel], ['slice', renderSlice],
        ['contour', renderContour], ['edf', renderEDF]];
      const next = () => {
        if (gen !== st.gen) return; // newer data: that render draws the charts
        const step = steps.shift();
        if (!step) {
          loadCurves(st);
          loadImportance(st);
          rendered();
          return;
        }
        timed(step[0], () => step[1](st));
        setTimeout(next, 0);
      };
      next();
    }, first);
  }

  function setupExperiment(st) {
    const d = st.d;
    $('#title').textContent = d.name;
    const spec = $('#spec');
    const kv = (k, v) => spec.append(el('dt', { text: k }), el('dd', { text: v }));
    kv('Objective', d.objective + ' (' + d.goal + (d.goalValue != null ? ', goal ' + d.goalValue : '') + ')');
    kv('Algorithm', d.algorithm);
    kv('Metrics', d.metrics.map((m) => m + ' (' + (d.strategies[m] || '') + ')').join(', '));
    kv('Parallel trials', String(d.parallel));
    kv('Max trials', d.budget ? String(d.budget) : 'unbounded');
    kv('Max failed', d.maxFailed ? String(d.maxFailed) : 'unbounded');
    kv('Created', fmtTime(d.created));
    $('#space tbody').replaceChildren(...d.params.map((p) => el('tr', {},
      el('td', { text: p.name }), el('td', { text: p.type }),
      el('td', { text: p.values && p.values.length ? p.values.join(', ') : '[' + p.min + ', ' + p.max + ']' + (p.step ? ' step ' + p.step : '') }),
      el('td', { text: p.numeric && p.type !== 'discrete' ? p.distribution || '' : '' }))));
    $('#source').textContent = d.source;
    for (const p of d.params) $('#slice-param').append(el('option', { value: p.name, text: p.name }));
    st.sliceParam = d.params.length ? d.params[0].name : null;
    for (const p of d.params) for (const id of ['#contour-x', '#contour-y']) $(id).append(el('option', { value: p.name, text: p.name }));
    setContourParams(st, defaultContourParams(d, null));
    for (const m of d.metrics) $('#curve-metric').append(el('option', { value: m, text: m }));
    st.curveMetric = d.objective;
    for (const s of ['Succeeded', 'Running', 'Pending', 'Failed', 'EarlyStopped', 'Killed', 'MetricsUnavailable'])
      $('#status-filter').append(el('option', { value: s, text: s }));
  }

  function renderHead(d) {
    badge($('#phase'), d.phase);
    const pct = d.budget > 0 ? Math.min(100, 100 * d.finished / d.budget) : 0;
    $('#bar').style.width = pct + '%';
    const elapsed = d.started && !d.started.startsWith('0001-')
      ? ((d.completed ? new Date(d.completed) : new Date()) - new Date(d.started)) / 1000 : null;
    $('#progress-text').textContent = d.finished + '/' + (d.budget || '∞') + ' trials finished' +
      (elapsed != null ? ' · ' + fmtDuration(elapsed) + (d.completed ? '' : ' elapsed') : '') +
      (d.reason ? ' · ' + d.reason : '');
    const c = d.counts;
    $('#counts').replaceChildren(...[['running', c.running], ['succeeded', c.succeeded], ['failed', c.failed],
      ['early stopped', c.earlyStopped], ['killed', c.killed], ['metrics unavailable', c.metricsUnavailable], ['pending', c.pending]]
      .filter(([, n]) => n > 0).map(([k, n]) => el('span', { 'data-count': k, text: n + ' ' + k })));
    const b = $('#best');
    if (d.best < 0) {
      b.replaceChildren(el('p', { class: 'muted', text: 'No trial has succeeded with the objective yet.' }));
      return;
    }
    const t = d.trials[d.best];
    b.replaceChildren(
      el('p', {}, el('a', { href: trialHref(d.name, t.name), text: t.name }), ' · ',
        el('strong', { id: 'best-value', 'data-value': String(t.value), title: String(t.value), text: d.objective + ' = ' + fmt(t.value) })),
      el('dl', { class: 'kv' }, ...d.params.flatMap((p, i) => [el('dt', { text: p.name }), el('dd', { text: fmt(t.params[i]) })])));
  }

  // durationOf is a trial's duration in seconds; for a running one, the time
  // since it started.
  function durationOf(t) {
    if (t.duration != null) return t.duration;
    if (!t.started || t.started.startsWith('0001-')) return null;
    return Math.max(0, (Date.now() - new Date(t.started)) / 1000);
  }

  function trialHref(exp, t) { return '/experiments/' + enc(exp) + '/trials/' + enc(t); }

  // Columns of the trial table: key, header, value getter, numeric.
  function columns(d) {
    const cols = [
      { key: 'seq', label: '#', get: (t) => t.seq, num: true },
      { key: 'trial', label: 'Trial', get: (t) => t.name },
      { key: 'status', label: 'Status', get: (t) => t.state },
    ];
    d.params.forEach((p, i) => cols.push({ key: p.name, label: p.name, get: (t) => t.params[i], num: p.numeric, param: true }));
    for (const m of d.metrics) cols.push({ key: m, label: m + (m === d.objective ? ' ★' : ''), get: (t) => t.metrics[m] ?? null, num: true, metric: true });
    cols.push({ key: 'duration', label: 'Duration', get: durationOf, num: true, fmt: fmtDuration });
    return cols;
  }

  // parseFilter reads "lr<0.01, optimizer=adam, text": comparisons on a
  // column (< <= > >= = != ~ for "contains") or words any cell contains.
  function parseFilter(text, d) {
    if (!d) return [];
    const cols = columns(d);
    const out = [];
    for (const raw of text.split(',')) {
      const term = raw.trim();
      if (!term) continue;
      const m = term.match(/^([^<>=!~]+?)\s*(<=|>=|!=|=|<|>|~)\s*(.*)$/);
      if (!m) {
        const w = term.toLowerCase();
        out.push((t) => t.name.toLowerCase().includes(w) || t.state.toLowerCase().includes(w) ||
          t.params.some((v) => String(v).toLowerCase().includes(w)));
        continue;
      }
      const [, key, op, want] = m;
      const col = cols.find((c) => c.key === key.trim() || c.label === key.trim());
      if (!col) throw new Error('unknown column ' + JSON.stringify(key.trim()) + '; columns: ' + cols.map((c) => c.key).join(', '));
      const wn = Number(want);
      const numeric = col.num && want.trim() !== '' && !isNaN(wn);
      if (['<', '<=', '>', '>='].includes(op) && !numeric) throw new Error(col.key + op + ': ' + JSON.stringify(want) + ' is not a number');
      out.push((t) => {
        const v = col.get(t);
        if (v == null) return op === '!=';
        if (op === '~') return String(v).toLowerCase().includes(want.toLowerCase());
        if (numeric && typeof v === 'number') {
          switch (op) {
            case '<': return v < wn; case '<=': return v <= wn; case '>': return v > wn; case '>=': return v >= wn;
            case '=': return v === wn; case '!=': return v !== wn;
          }
        }
        if (op === '=') return String(v) === want;
        if (op === '!=') return String(v) !== want;
        return false;
      });
    }
    return out;
  }

  function visibleTrials(st) {
    const d = st.d;
    const cols = columns(d);
    let rows = d.trials.filter((t) => (!st.status || t.state === st.status) && st.filter.every((f) => f(t)) &&
      (!st.brushed || st.brushed.has(t.name)));
    const col = cols.find((c) => c.key === st.sort.key) || cols[0];
    const dir = st.sort.desc ? -1 : 1;
    rows = rows.slice().sort((a, b) => {
      const x = col.get(a), y = col.get(b);
      if (x == null && y == null) return a.seq - b.seq;
      if (x == null) return 1; // missing values last, whatever the direction
      if (y == null) return -1;
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return c !== 0 ? dir * c : a.seq - b.seq;
    });
    return rows;
  }

  function renderTable(st) {
    const d = st.d;
    if (!d) return;
    const cols = columns(d);
    const head = el('tr', {}, el('th', {}, ''), ...cols.map((c) => el('th', {
      class: 'sortable' + (c.num ? ' num' : '') + (st.sort.key === c.key ? (st.sort.desc ? ' desc' : ' asc') : ''),
      'data-key': c.key, title: 'sort by ' + c.key,
      onclick: () => {
        st.sort = st.sort.key === c.key ? { key: c.key, desc: !st.sort.desc } : { key: c.key, desc: c.metric && d.goal === 'maximize' && c.key === d.objective };
        renderTable(st);
      },
    }, c.label)));
    $('#trials thead').replaceChildren(head);
    const rows = visibleTrials(st);
    const best = d.best >= 0 ? d.trials[d.best].name : null;
    const shown = rows.slice(0, st.shown);
    $('#trials tbody').replaceChildren(...shown.map((t) => {
      const box = el('input', { type: 'checkbox', 'aria-label': 'select ' + t.name, onchange: (ev) => {
        if (ev.target.checked) st.selected.add(t.name); else st.selected.delete(t.name);
        ev.target.closest('tr').classList.toggle('selected', ev.target.checked);
        updateSelection(st);
        loadCurves(st);
      } });
      box.checked = st.selected.has(t.name);
      return el('tr', { 'data-trial': t.name, class: [t.name === best ? 'best' : '', st.selected.has(t.name) ? 'selected' : ''].join(' ').trim() || null },
        el('td', {}, box),
        ...cols.map((c) => {
          const v = c.get(t);
          if (c.key === 'trial') return el('td', { 'data-key': c.key }, el('a', { href: trialHref(d.name, t.name), text: t.name }));
          if (c.key === 'status') return el('td', { 'data-key': c.key, class: 'st-' + t.state, title: t.message || t.reason || null, text: t.state });
          return el('td', { 'data-key': c.key, class: c.num ? 'num' : null, 'data-value': v == null ? null : String(v),
            title: typeof v === 'number' ? String(v) : null, text: c.fmt ? c.fmt(v) : fmt(v) });
        }));
    }));
    $('#trial-count').textContent = rows.length === d.trials.length ? d.trials.length + ' trials'
      : rows.length + ' of ' + d.trials.length + ' trials match' + (st.brushed ? ' (parallel-coordinates selection)' : '');
    $('#more').hidden = rows.length <= shown.length;
    $('#more').textContent = 'Show more (' + (rows.length - shown.length) + ' hidden)';
    updateSelection(st);
    window.tuneView.rows = rows.length;
  }

  function updateSelection(st) {
    const n = st.selected.size;
    $('#compare-btn').disabled = n < 1;
    $('#compare-btn').textContent = 'Compare selected (' + n + ')';
    $('#clear-btn').disabled = n < 1;
  }

  function renderCompare(st) {
    const d = st.d;
    const ts = d.trials.filter((t) => st.selected.has(t.name));
    $('#compare').hidden = ts.length === 0;
    if (!ts.length) return;
    const rows = [el('tr', {}, el('th', {}, ''), ...ts.map((t) => el('th', {}, el('a', { href: trialHref(d.name, t.name), text: t.name }))))];
    const line = (label, vals, diff, cls) => el('tr', { 'data-row': label },
      el('th', { text: label }), ...vals.map((v) => el('td', { class: [cls, diff ? 'diff' : ''].join(' ').trim() || null, 'data-value': v == null ? null : String(v), text: fmt(v) })));
    rows.push(line('status', ts.map((t) => t.state), new Set(ts.map((t) => t.state)).size > 1));
    d.params.forEach((p, i) => {
      const vals = ts.map((t) => t.params[i]);
      rows.push(line(p.name, vals, new Set(vals.map(String)).size > 1, 'num'));
    });
    for (const m of d.metrics) rows.push(line(m, ts.map((t) => t.metrics[m] ?? null), false, 'num'));
    rows.push(el('tr', {}, el('th', { text: 'duration' }), ...ts.map((t) => el('td', { class: 'num', text: fmtDuration(durationOf(t)) }))));
    $('#compare-table').replaceChildren(...rows);
    window.tuneView.compared = ts.map((t) => t.name);
  }

  function objectiveAxis(d) {
    return { type: 'value', name: d.objective, scale: true, nameLocation: 'middle', nameGap: 45, axisLine: { onZero: false } };
  }

  function renderHistory(st) {
    const d = st.d;
    const ok = [], other = [], best = [];
    const bySeq = st.bySeq = new Map(d.trials.map((t) => [t.seq, t]));
    for (const t of d.trials) {
      if (t.value != null) ok.push([t.seq, t.value]);
      else if (t.metrics[d.objective] != null) other.push([t.seq, t.metrics[d.objective]]);
      // The best-so-far step line needs only its changes and its end.
      if (t.bestSoFar != null && (!best.length || best[best.length - 1][1] !== t.bestSoFar)) best.push([t.seq, t.bestSoFar]);
    }
    const last = d.trials[d.trials.length - 1];
    if (best.length && last && best[best.length - 1][0] !== last.seq) best.push([last.seq, best[best.length - 1][1]]);
    const c = chart('history');
    c.setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: (p) => p.seriesName === 'best so far' ? 'best so far: ' + fmt(p.value[1])
        : bySeq.get(p.value[0]).name + ': ' + fmt(p.value[1]) + (p.seriesIndex === 1 ? ' (' + bySeq.get(p.value[0]).state + ')' : '') },
      legend: { top: 0 },
      grid: { left: 60, right: 20, top: 30, bottom: 40 },
      xAxis: { type: 'value', name: 'trial', nameLocation: 'middle', nameGap: 25, minInterval: 1, scale: true },
      yAxis: objectiveAxis(d),
      series: [
        { name: 'succeeded', type: 'scatter', symbolSize: 6, data: ok, large: true, largeThreshold: 300 },
        { name: 'not counted (failed, stopped, running)', type: 'scatter', symbol: 'triangle', symbolSize: 7, itemStyle: { color: '#cf222e' }, data: other, large: true, largeThreshold: 300 },
        { name: 'best so far', type: 'line', step: 'end', showSymbol: false, data: best, lineStyle: { width: 2 }, itemStyle: { color: '#1a7f37' } },
      ],
    }, { notMerge: true });
    if (!c._tuneClick) {
      c._tuneClick = true;
      c.on('click', (p) => { const t = p.seriesIndex < 2 && st.bySeq.get(p.value[0]); if (t) location.href = trialHref(st.d.name, t.name); });
    }
  }

  function renderParallel(st) {
    const d = st.d;
    const axes = d.params.map((p, i) => {
      const a = { dim: i, name: p.name };
      if (!p.numeric) {
        const cats = p.values && p.values.length ? p.values.slice() : [];
        for (const t of d.trials) if (!cats.includes(String(t.params[i]))) cats.push(String(t.params[i]));
        return Object.assign(a, { type: 'category', data: cats });
      }
      return Object.assign(a, p.log && p.min > 0 ? { type: 'log' } : { type: 'value', scale: true });
    });
    axes.push({ dim: d.params.length, name: d.objective, type: 'value', scale: true, nameTextStyle: { fontWeight: 'bold' } });
    const rows = [], names = [];
    for (const t of d.trials) {
      if (t.value == null) continue;
      rows.push([...t.params.map((v, i) => (d.params[i].numeric ? v : String(v))), t.value]);
      names.push(t.name);
    }
    const vals = rows.map((r) => r[r.length - 1]);
    const c = chart('parallel');
    st.parallelNames = names;
    c.setOption({
      animation: false,
      parallel: { left: 50, right: 80, top: 40, bottom: 30 },
      parallelAxis: axes,
      visualMap: vals.length ? {
        type: 'continuous', dimension: d.params.length, min: Math.min(...vals), max: Math.max(...vals), right: 0, top: 'middle',
        calculable: false, itemHeight: 120, inRange: { color: d.goal === 'minimize' ? ['#0969da', '#8c959f', '#cf222e'] : ['#cf222e', '#8c959f', '#0969da'] },
        text: ['', ''],
      } : undefined,
      series: [{ type: 'parallel', data: rows, lineStyle: { width: 1, opacity: rows.length > 1000 ? 0.25 : 0.6 },
        progressive: 1000, inactiveOpacity: 0.03, activeOpacity: 1 }],
    }, { notMerge: true });
    if (!c._tuneBrush) {
      c._tuneBrush = true;
      c.on('axisareaselected', () => {
        const series = c.getModel().getSeries()[0];
        const idx = new Set(series.getRawIndicesByActiveState('active'));
        // No line inactive: no range is selected (or one that keeps all).
        const none = series.getRawIndicesByActiveState('inactive').length === 0;
        st.brushed = none ? null : new Set(st.parallelNames.filter((_, i) => idx.has(i)));
        st.shown = PAGE_ROWS;
        renderTable(st);
      });
    }
  }

  function renderSlice(st) {
    const d = st.d;
    const i = d.params.findIndex((p) => p.name === st.sliceParam);
    const c = chart('slice');
    if (i < 0) { c.clear(); return; }
    const p = d.params[i];
    const data = [];
    for (const t of d.trials) if (t.value != null) data.push([p.numeric ? t.params[i] : String(t.params[i]), t.value, t.seq]);
    let xAxis;
    if (!p.numeric) {
      const cats = p.values && p.values.length ? p.values.slice() : [...new Set(data.map((r) => r[0]))];
      xAxis = { type: 'category', data: cats, name: p.name, nameLocation: 'middle', nameGap: 25 };
    } else {
      xAxis = Object.assign({ name: p.name, nameLocation: 'middle', nameGap: 25, axisLine: { onZero: false } }, p.log && p.min > 0 ? { type: 'log' } : { type: 'value', scale: true });
    }
    c.setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: (q) => (st.bySeq.get(q.value[2]) || {}).name + ': ' + p.name + '=' + fmt(q.value[0]) + ', ' + d.objective + '=' + fmt(q.value[1]) },
      grid: { left: 60, right: 80, top: 20, bottom: 40 },
      xAxis, yAxis: objectiveAxis(d),
      visualMap: data.length ? { type: 'continuous', dimension: 2, min: 1, max: Math.max(1, ...data.map((r) => r[2])), right: 0, top: 'middle', itemHeight: 120,
        text: ['later', 'earlier'], inRange: { color: ['#d0d7de', '#0969da'] }, calculable: false } : undefined,
      series: [{ type: 'scatter', symbolSize: 6, data, large: true, largeThreshold: 300 }],
    }, { notMerge: true });
  }

  // loadCurves shows the selected trials' curves, or the best ten's.
  function loadCurves(st) {
    const d = st.d;
    if (!d) return;
    let names = d.trials.filter((t) => st.selected.has(t.name)).map((t) => t.name);
    let note = 'selected trials';
    if (!names.length) {
      const sign = d.goal === 'maximize' ? -1 : 1;
      names = d.trials.filter((t) => t.value != null).sort((a, b) => sign * (a.value - b.value)).slice(0, 10).map((t) => t.name);
      // Running trials' curves grow: show them too.
      names.push(...d.trials.filter((t) => t.state === 'Running').slice(0, 10).map((t) => t.name));
      note = 'best ten and running trials; select trials to choose';
    }
    names = names.slice(0, 50);
    $('#curve-note').textContent = note;
    // Called on each data change and selection change; the latest call wins.
    const seq = st.curveSeq = (st.curveSeq || 0) + 1;
    const url = '/api/experiments/' + enc(d.name) + '/curves?' + names.map((n) => 'trial=' + enc(n)).join('&');
    const metric = st.curveMetric;
    fetch(url, { cache: 'no-store' }).then((r) => r.ok ? r.json() : Promise.reject(new Error(r.statusText))).then((cv) => {
      if (seq !== st.curveSeq) return;
      const series = names.map((n) => {
        const pts = ((cv.trials[n] || {})[metric] || []);
        return { name: n, type: 'line', showSymbol: pts.length < 30, symbolSize: 4,
          data: pts.map((p, i) => [p.step >= 0 ? p.step : i + 1, p.value]) };
      });
      const c = chart('curves');
      c.setOption({
        animation: false,
        tooltip: { trigger: 'item', formatter: (p) => p.seriesName + ' step ' + p.value[0] + ': ' + fmt(p.value[1]) },
        legend: { type: 'scroll', bottom: 0 },
        grid: { left: 60, right: 20, top: 20, bottom: 60 },
        xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25, minInterval: 1 },
        yAxis: { type: 'value', name: metric, scale: true, nameLocation: 'middle', nameGap: 45 },
        series,
      }, { notMerge: true });
      window.tuneView.curves = series.map((s) => ({ name: s.name, points: s.data.length }));
    }).catch((e) => { $('#curve-note').textContent = 'curves: ' + e.message; });
  }

  // loadImportance fetches the fANOVA shares once they can be computed:
  // again after each change of the number of trials with a value until the
  // server answers 200, then never again on this page.
  function loadImportance(st) {
    const d = st.d;
    const valued = d.trials.reduce((n, t) => n + (t.value != null ? 1 : 0), 0);
    if (st.importance || st.importanceFor === valued) return;
    st.importanceFor = valued;
    fetch('/api/experiments/' + enc(d.name) + '/importance', { cache: 'no-store' }).then(async (r) => {
      const body = await r.json().catch(() => ({}));
      const box = $('#importance');
      if (!r.ok) {
        box.textContent = body.error || r.statusText;
        box.dataset.status = String(r.status);
        return;
      }
      const params = (body.params || []).filter((p) => p.importance != null);
      st.importance = params;
      box.textContent = (body.method || 'fANOVA') + ' over ' + body.trials + ' trials, ' + (body.metric || d.objective);
      box.dataset.status = '200';
      renderImportance(params);
      if (!st.contourChosen) {
        setContourParams(st, defaultContourParams(d, params));
        renderContour(st);
      }
    }).catch((e) => { $('#importance').textContent = 'importance: ' + e.message; st.importanceFor = -1; });
  }

  // renderImportance draws the shares as horizontal bars, the most
  // important on top, each labelled with its value.
  function renderImportance(params) {
    const box = document.getElementById('chart-importance');
    box.hidden = false;
    box.style.height = (50 + 28 * Math.max(1, params.length)) + 'px';
    const c = chart('importance');
    c.resize();
    c.setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: (p) => p.name + ': ' + fmt(p.value) },
      grid: { left: 10, right: 60, top: 10, bottom: 30, containLabel: true },
      xAxis: { type: 'value', min: 0, max: (e) => Math.min(1, Math.max(0.1, Math.ceil(e.max * 10) / 10)), name: 'share', nameLocation: 'middle', nameGap: 22 },
      yAxis: { type: 'category', inverse: true, data: params.map((p) => p.name), axisTick: { show: false } },
      series: [{ type: 'bar', data: params.map((p) => p.importance), barMaxWidth: 18, itemStyle: { color: '#0969da' },
        label: { show: true, position: 'right', formatter: (p) => fmt(p.value) } }],
    }, { notMerge: true });
  }

  // defaultContourParams returns the contour's two parameters: the two most
  // important numeric ones when shares are known, else the first two
  // numeric ones, else the first two; null with fewer than two.
  function defaultContourParams(d, shares) {
    if (d.params.length < 2) return null;
    const numeric = d.params.filter((p) => p.numeric).map((p) => p.name);
    if (shares) {
      const ranked = shares.map((s) => s.name).filter((n) => numeric.includes(n));
      for (const n of numeric) if (!ranked.includes(n)) ranked.push(n);
      if (ranked.length >= 2) return ranked.slice(0, 2);
    }
    if (numeric.length >= 2) return numeric.slice(0, 2);
    return [d.params[0].name, d.params[1].name];
  }

  function setContourParams(st, pair) {
    st.contour = pair;
    if (!pair) return;
    $('#contour-x').value = pair[0];
    $('#contour-y').value = pair[1];
  }

  // CONTOUR_GRID points per numeric axis, as tune plot contour, while the
  // interpolation costs at most CONTOUR_WORK distance evaluations (trials ×
  // cells); beyond, fewer points (at least 20), so that 5,000 trials draw in
  // tens of milliseconds.
  const CONTOUR_GRID = 60, CONTOUR_WORK = 2.5e6;
  function contourGridSize(n) {
    return n * CONTOUR_GRID * CONTOUR_GRID <= CONTOUR_WORK ? CONTOUR_GRID : Math.max(20, Math.floor(Math.sqrt(CONTOUR_WORK / n)));
  }

  // contourAxis lays out the grid along parameter p over the trials' values
  // vals (numbers, or category indices): coords are the grid's values, norm
  // the same positions on [0, 1], and map(v) a value's position on [0, 1];
  // log parameters on a log scale (when every value is > 0), categories
  // at i/(n-1), one value in the middle.
  function contourAxis(p, vals, cats, size) {
    if (!p.numeric) {
      const n = cats.length;
      return { coords: cats.slice(), norm: cats.map((_, i) => (n > 1 ? i / (n - 1) : 0.5)), map: (v) => (n > 1 ? v / (n - 1) : 0.5), cat: true };
    }
    const log = p.log && vals.every((v) => v > 0);
    const tr = log ? Math.log : (v) => v;
    let lo = Infinity, hi = -Infinity;
    for (const v of vals) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (!(hi > lo)) return { coords: [lo], norm: [0.5], map: () => 0.5 };
    const tlo = tr(lo), span = tr(hi) - tlo;
    const coords = [], norm = [];
    for (let i = 0; i < size; i++) {
      const f = i / (size - 1);
      norm.push(f);
      coords.push(log ? Math.exp(tlo + f * span) : lo + f * (hi - lo));
    }
    return { coords, norm, map: (v) => (tr(v) - tlo) / span, log, lo, hi };
  }

  // contourGrid interpolates the objective of the trials with a value over
  // parameters ix and iy by inverse-distance weighting with power 2 on axes
  // mapped to [0, 1] (internal/plot.Interpolate's method): cells are
  // [column, row, value]; pts the trials as [column, row] positions.
  function contourGrid(d, ix, iy) {
    const px = d.params[ix], py = d.params[iy];
    const catsOf = (p, i) => {
      const cats = p.values && p.values.length ? p.values.map(String) : [];
      for (const t of d.trials) if (t.value != null && t.params[i] != null && !cats.includes(String(t.params[i]))) cats.push(String(t.params[i]));
      return cats;
    };
    const cx = px.numeric ? null : catsOf(px, ix), cy = py.numeric ? null : catsOf(py, iy);
    const pos = (p, cats, v) => {
      if (v == null) return null;
      if (!p.numeric) return cats.indexOf(String(v));
      return typeof v === 'number' && isFinite(v) ? v : null;
    };
    const xs = [], ys = [], zs = [], trials = [];
    for (const t of d.trials) {
      if (t.value == null || !isFinite(t.value)) continue;
      const x = pos(px, cx, t.params[ix]), y = pos(py, cy, t.params[iy]);
      if (x == null || y == null) continue;
      xs.push(x); ys.push(y); zs.push(t.value); trials.push(t);
    }
    if (!zs.length) return null;
    const n = zs.length, size = contourGridSize(n);
    const ax = contourAxis(px, xs, cx, size), ay = contourAxis(py, ys, cy, size);
    const nx = new Float64Array(n), ny = new Float64Array(n), nz = Float64Array.from(zs);
    for (let i = 0; i < n; i++) { nx[i] = ax.map(xs[i]); ny[i] = ay.map(ys[i]); }
    const cells = [];
    let zmin = Infinity, zmax = -Infinity;
    for (let r = 0; r < ay.norm.length; r++) {
      const gy = ay.norm[r];
      for (let c = 0; c < ax.norm.length; c++) {
        const gx = ax.norm[c];
        let num = 0, den = 0, exact = 0, nexact = 0;
        for (let i = 0; i < n; i++) {
          const dx = gx - nx[i], dy = gy - ny[i];
          const d2 = dx * dx + dy * dy;
          if (d2 === 0) { exact += nz[i]; nexact++; continue; }
          const w = 1 / d2;
          num += w * nz[i];
          den += w;
        }
        const z = nexact ? exact / nexact : num / den;
        if (z < zmin) zmin = z;
        if (z > zmax) zmax = z;
        cells.push([c, r, z]);
      }
    }
    // A trial's position in grid units: cell k is centred on k.
    const gpos = (a, v) => (a.coords.length > 1 ? v * (a.coords.length - 1) : 0);
    const pts = trials.map((t, i) => [gpos(ax, nx[i]), gpos(ay, ny[i]), t.value, t.seq]);
    return { ax, ay, cells, pts, zmin, zmax, px, py };
  }

  function renderContour(st) {
    const d = st.d;
    const c = chart('contour');
    const ix = st.contour ? d.params.findIndex((p) => p.name === st.contour[0]) : -1;
    const iy = st.contour ? d.params.findIndex((p) => p.name === st.contour[1]) : -1;
    const note = $('#contour-note');
    const t0 = performance.now();
    const g = ix >= 0 && iy >= 0 && ix !== iy ? contourGrid(d, ix, iy) : null;
    const gridMs = Math.round(performance.now() - t0);
    if (!g) {
      c.clear();
      note.textContent = d.params.length < 2 ? 'needs two parameters' : ix === iy ? 'choose two different parameters' : 'no trial has a value yet';
      window.tuneView.contour = null;
      return;
    }
    note.textContent = 'inverse-distance weighted; read it where there are points';
    const best = d.best >= 0 ? d.trials[d.best] : null;
    const bestPt = best ? g.pts.filter((p) => p[3] === best.seq) : [];
    // The heatmap and the points lie on category axes (cell k centred on
    // k); a numeric parameter's labelled axis is a value (or log) axis over
    // the same span laid on top: from half a cell below the least value to
    // half a cell above the greatest.
    const axes = (a, p, gap, side, other) => {
      const name = p.name + (a.log ? ' (log)' : '');
      const cat = { type: 'category', data: a.coords.map((v) => (a.cat ? v : fmt(v))), splitArea: { show: false }, axisTick: { show: false } };
      if (a.cat || a.coords.length < 2) return [Object.assign(cat, { name, nameLocation: 'middle', nameGap: gap })];
      const k = a.coords.length - 1;
      let min = a.lo - (a.hi - a.lo) / k / 2, max = a.hi + (a.hi - a.lo) / k / 2;
      if (a.log) { const r = Math.pow(a.hi / a.lo, 1 / k / 2); min = a.lo / r; max = a.hi * r; }
      return [Object.assign(cat, { show: false, position: other }),
        { type: a.log ? 'log' : 'value', position: side, min, max, name, nameLocation: 'middle', nameGap: gap, splitLine: { show: false },
          axisLabel: { formatter: (v) => fmt(v), hideOverlap: true, showMinLabel: false, showMaxLabel: false } }];
    };
    const tip = (q) => {
      if (q.seriesType === 'heatmap') return st.contour[0] + '=' + g.ax.coords[q.value[0]] + ', ' + st.contour[1] + '=' + g.ay.coords[q.value[1]] + ': ' + d.objective + ' ≈ ' + fmt(q.value[2]);
      const t = st.bySeq.get(q.value[3]);
      return (t ? t.name : '') + ': ' + d.objective + '=' + fmt(q.value[2]);
    };
    c.setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: tip },
      grid: { left: 70, right: 80, top: 20, bottom: 45 },
      xAxis: axes(g.ax, g.px, 28, 'bottom', 'top'),
      yAxis: axes(g.ay, g.py, 50, 'left', 'right'),
      visualMap: {
        type: 'continuous', seriesIndex: 0, min: g.zmin, max: g.zmax > g.zmin ? g.zmax : g.zmin + 1, right: 0, top: 'middle', itemHeight: 120, calculable: false,
        text: [fmt(g.zmax), fmt(g.zmin)], textGap: 4,
        inRange: { color: d.goal === 'minimize' ? ['#0969da', '#8c959f', '#cf222e'] : ['#cf222e', '#8c959f', '#0969da'] }, formatter: (v) => fmt(v),
      },
      series: [
        { name: 'interpolated', type: 'heatmap', data: g.cells, progressive: 0 },
        { name: 'trials', type: 'scatter', data: g.pts, symbolSize: 5, itemStyle: { color: '#1f2328', borderColor: '#fff', borderWidth: 0.5 }, large: true, largeThreshold: 300, z: 3 },
        { name: 'best', type: 'scatter', data: bestPt, symbolSize: 13, itemStyle: { color: 'rgba(0,0,0,0)', borderColor: '#1a7f37', borderWidth: 2.5 }, z: 4 },
      ],
    }, { notMerge: true });
    if (!c._tuneClick) {
      c._tuneClick = true;
      c.on('click', (p) => { const t = p.seriesIndex > 0 && st.bySeq.get(p.value[3]); if (t) location.href = trialHref(st.d.name, t.name); });
    }
    window.tuneView.contour = { x: st.contour[0], y: st.contour[1], cols: g.ax.coords.length, rows: g.ay.coords.length, gridMs };
  }

  // renderEDF draws the empirical distribution function of the objective
  // over the succeeded trials: at x, the fraction of them with a value ≤ x.
  function renderEDF(st) {
    const d = st.d;
    const vals = [];
    for (const t of d.trials) if (t.state === 'Succeeded' && t.value != null && isFinite(t.value)) vals.push(t.value);
    vals.sort((a, b) => a - b);
    const n = vals.length;
    const data = vals.map((v, i) => [v, (i + 1) / n]);
    const c = chart('edf');
    c.setOption({
      animation: false,
      tooltip: { trigger: 'item', formatter: (p) => fmt(p.value[1] * 100) + ' % of ' + n + ' trials have ' + d.objective + ' ≤ ' + fmt(p.value[0]) },
      grid: { left: 60, right: 20, top: 20, bottom: 40 },
      xAxis: { type: 'value', scale: true, name: d.objective, nameLocation: 'middle', nameGap: 25 },
      yAxis: { type: 'value', min: 0, max: 1, name: 'fraction of trials', nameLocation: 'middle', nameGap: 40 },
      series: [{ name: 'succeeded', type: 'line', step: 'end', data, showSymbol: n <= 50, symbolSize: 4, lineStyle: { width: 2 } }],
    }, { notMerge: true });
  }

  // ---------------------------------------------------------------- trial

  function trialPage(first) {
    const parts = location.pathname.split('/');
    const exp = decodeURIComponent(parts[2]), name = decodeURIComponent(parts[4]);
    document.title = 'tune · ' + name;
    $('#exp-link').textContent = exp;
    $('#exp-link').href = '/experiments/' + enc(exp);
    $('#crumb').textContent = name;
    poll('/api/experiments/' + enc(exp) + '/trials/' + enc(name), (t) => {
      $('#title').textContent = t.name;
      badge($('#phase'), t.state);
      $('#reason').textContent = [t.reason, t.message].filter(Boolean).join(': ');
      $('#params tbody').replaceChildren(...t.params.map((p) => el('tr', { 'data-param': p.name }, el('th', { text: p.name }), el('td', { class: 'num', text: p.value }))));
      const ms = Object.keys(t.metrics).sort((a, b) => (a === t.objective ? -1 : b === t.objective ? 1 : a.localeCompare(b)));
      $('#metrics tbody').replaceChildren(...ms.map((m) => {
        const s = t.metrics[m];
        const td = (v) => el('td', { class: 'num', 'data-value': v == null ? null : String(v), title: v == null ? null : String(v), text: fmt(v) });
        return el('tr', { 'data-metric': m }, el('th', { text: m + (m === t.objective ? ' ★' : '') }), td(s.value), el('td', { text: s.strategy }),
          td(s.min), td(s.max), td(s.latest), el('td', { class: 'num', text: String(s.count) }));
      }));
      const run = $('#run');
      run.replaceChildren();
      const kv = (k, v) => { if (v) run.append(el('dt', { text: k }), el('dd', { text: v })); };
      kv('Duration', fmtDuration(t.duration));
      kv('Created', fmtTime(t.created));
      kv('Started', fmtTime(t.started));
      kv('Finished', fmtTime(t.finished));
      kv('Exit code', t.exitCode != null ? String(t.exitCode) : '');
      kv('Directory', t.dir);
      const series = Object.keys(t.curves).sort().map((m) => ({
        name: m, type: 'line', showSymbol: t.curves[m].length < 50,
        data: t.curves[m].map((p, i) => [p.step >= 0 ? p.step : i + 1, p.value]),
      }));
      const c = chart('trial');
      c.setOption({
        animation: false,
        tooltip: { trigger: 'axis' },
        legend: { top: 0 },
        grid: { left: 60, right: 20, top: 30, bottom: 40 },
        xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 25, minInterval: 1 },
        yAxis: { type: 'value', scale: true },
        series,
      }, { notMerge: true });
      window.tuneView.curves = series.map((s) => ({ name: s.name, points: s.data.length }));
      for (const k of ['stdout', 'stderr']) {
        const o = t[k];
        $('#' + k).textContent = o.error ? '' : o.text;
        $('#' + k + '-note').textContent = o.error ? o.error : o.truncated ? 'last part' : '';
      }
      if (!finalStates.has(t.state)) {
        const out = $('#stdout');
        out.scrollTop = out.scrollHeight;
      }
      rendered();
    }, first);
  }

  // app.js runs before the chart library has loaded (which is deferred): it
  // starts the page's first API request at once, and renders once the
  // document and the library are ready.
  const domReady = new Promise((resolve) => {
    if (document.readyState !== 'loading') resolve();
    else document.addEventListener('DOMContentLoaded', () => resolve());
  });
  const apiOf = {
    index: () => '/api/experiments',
    experiment: () => '/api/experiments/' + location.pathname.split('/')[2],
    trial: () => '/api/experiments/' + location.pathname.split('/')[2] + '/trials/' + location.pathname.split('/')[4],
  };
  const pageName = document.body.dataset.page;
  const pages = { index: indexPage, experiment: experimentPage, trial: trialPage };
  if (pages[pageName]) {
    const first = fetch(apiOf[pageName](), { cache: 'no-store' });
    first.catch(() => {}); // reported by poll
    domReady.then(() => pages[pageName](first));
  }
})();
