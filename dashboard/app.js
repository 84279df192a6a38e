'use strict';
// The Volley dashboard: reads the node's HTTP API every few seconds and draws
// it. No framework and no library: DOM calls and hand-drawn SVG. Every
// request goes to this page's own origin, with the token when the API has
// one (kept in sessionStorage: this tab only, gone when it closes).

(() => {
  const REFRESH_MS = 5000;
  const TOKEN_KEY = 'volley.api_token';
  const tokenRequired =
    document.querySelector('meta[name="volley-token"]').getAttribute('content') === 'required';
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let timer = null;
  let refreshing = false;
  let refreshAgain = false; // asked for while one was under way: its answers may be stale
  let lastEventId = '';

  class Unauthorized extends Error {}

  // ---- the API ---------------------------------------------------------------

  // {status, data}; throws Unauthorized on 401, TypeError when unreachable.
  async function api(method, path, body) {
    const headers = {};
    if (token) headers.Authorization = 'Bearer ' + token;
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    if (response.status === 401) throw new Unauthorized('the token was refused');
    const text = await response.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (e) {
      data = { error: text };
    }
    return { status: response.status, data };
  }

  // What a failed call shows in `target`; a refused token asks for it again.
  function failed(e, target, what) {
    if (e instanceof Unauthorized) askForToken('The token was refused: type it again.');
    else target.textContent = what + ': ' + e.message;
  }

  function errorOf(answer) {
    const what = answer.data && answer.data.error ? answer.data.error : 'no reason given';
    return 'HTTP ' + answer.status + ': ' + what;
  }

  // ---- DOM helpers -------------------------------------------------------------

  const SVG = 'http://www.w3.org/2000/svg';
  const el = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
  const svg = (tag, attrs, ...children) => build(document.createElementNS(SVG, tag), attrs, children);

  // Attributes ("on..." ones as listeners; null, undefined and false left
  // out) and children (nodes, or text: never parsed as HTML).
  function build(node, attrs, children) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat())
      if (child !== null && child !== undefined)
        node.append(child instanceof Node ? child : String(child));
    return node;
  }

  function badge(text, kind, title) {
    return el('span', { class: 'badge ' + (kind || text), title }, text);
  }

  function fillBody(table, rows, columns, emptyText) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
    if (rows.length === 0)
      body.append(el('tr', { class: 'empty' }, el('td', { colspan: columns }, emptyText)));
  }

  function percent(value) {
    return value === null || value === undefined ? '–' : Number(value).toFixed(1) + ' %';
  }

  function ms(value) {
    if (value === null || value === undefined) return '–';
    return value >= 100 ? Math.round(value) + ' ms' : Number(value).toFixed(1) + ' ms';
  }

  function clock(iso) {
    if (!iso) return '';
    const date = new Date(iso);
    return isNaN(date) ? iso : date.toLocaleString();
  }

  // ---- the token ---------------------------------------------------------------

  function askForToken(message) {
    stopRefreshing();
    token = '';
    sessionStorage.removeItem(TOKEN_KEY);
    $('content').hidden = true;
    $('forget-token').hidden = true;
    $('token-panel').hidden = false;
    $('token-error').textContent = message || '';
    $('token-input').focus();
  }

  $('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token-input').value.trim();
    $('token-input').value = '';
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    start();
  });

  $('forget-token').addEventListener('click', () => askForToken(''));

  // ---- refreshing --------------------------------------------------------------

  function start() {
    $('token-panel').hidden = true;
    $('content').hidden = false;
    $('forget-token').hidden = !tokenRequired;
    stopRefreshing();
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
  }

  function stopRefreshing() {
    if (timer !== null) clearInterval(timer);
    timer = null;
  }

  function showError(message) {
    $('error').hidden = !message;
    $('error').textContent = message || '';
  }

  async function refresh() {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    try {
      const [stats, subscribers, series, queue, dlq] = await Promise.all([
        api('GET', '/v1/stats'),
        api('GET', '/v1/subscribers'),
        api('GET', '/v1/stats/series?window=' + encodeURIComponent($('window').value)),
        api('GET', '/v1/queue'),
        api('GET', '/v1/dlq?limit=100'),
      ]);
      const failed = [stats, subscribers, series, queue, dlq].filter((a) => a.status !== 200);
      showError(failed.map(errorOf).join('; '));
      if (stats.status === 200) renderNode(stats.data);
      if (stats.status === 200 && subscribers.status === 200)
        renderSubscribers(subscribers.data, stats.data);
      if (series.status === 200) renderCharts(series.data);
      if (queue.status === 200) renderQueue(queue.data);
      if (dlq.status === 200) renderDlq(dlq.data);
      $('refreshed').textContent = 'updated ' + new Date().toLocaleTimeString();
    } catch (e) {
      failed(e, $('error'), 'cannot reach the API');
      $('error').hidden = false;
    } finally {
      refreshing = false;
    }
    if (refreshAgain && timer !== null) {
      refreshAgain = false;
      refresh();
    }
  }

  $('window').addEventListener('change', refresh);

  // ---- node and subscribers ------------------------------------------------------

  function renderNode(stats) {
    const node = stats.node || {};
    const hour = (node.windows && node.windows['1h']) || {};
    const status = $('node-status');
    status.textContent = node.status || 'unknown';
    status.className = 'badge ' + (node.status || 'unknown');
    $('node-name').textContent = stats.cluster ? 'node ' + stats.cluster.name : '';
    const cards = [
      ['status', node.status],
      ['delivered (1h)', hour.delivered],
      ['dead-lettered (1h)', hour.dead_lettered],
      ['attempts (1h)', hour.attempts],
      ['success (1h)', hour.attempts ? percent(hour.success_rate) : '–'],
      ['p50 / p99 (1h)', hour.attempts ? ms(hour.p50_ms) + ' / ' + ms(hour.p99_ms) : '–'],
      ['pending', node.queued],
      ['dead letters', node.dlq],
    ];
    if (stats.cluster) cards.push(['consumer lag', stats.cluster.consumer_lag]);
    $('node-cards').replaceChildren(
      ...cards.map(([label, value]) =>
        el('div', { class: 'card' }, el('div', { class: 'label' }, label),
           el('div', { class: 'value' }, value === undefined ? '–' : value))));
  }

  function renderSubscribers(list, stats) {
    const counts = new Map((stats.subscribers || []).map((s) => [s.subscriber, s]));
    const rows = (list.subscribers || []).map((s) => {
      const live = s.state || {};
      const seen = counts.get(s.name) || {};
      const hour = (seen.windows && seen.windows['1h']) || {};
      // No max_in_flight yet: the subscriber has not reported to the monitor.
      const reported = live.max_in_flight > 0;
      const limits = reported
        ? (live.in_flight ?? 0) + ' / ' + live.limit + ' (max ' + live.max_in_flight + ')' : '–';
      return el('tr', { 'data-subscriber': s.name },
        el('td', {}, s.name, s.source === 'api' ? el('span', { class: 'muted' }, ' api') : null),
        el('td', {}, badge(live.status || seen.status || 'unknown')),
        el('td', {}, live.enabled === false
          ? badge('disabled', 'no', live.disabled_reason) : badge('yes')),
        el('td', { class: 'breaker' }, badge(live.breaker || seen.breaker || 'closed')),
        el('td', { class: 'num in-flight' }, limits),
        el('td', { class: 'num' }, live.queued ?? seen.queued ?? 0,
           live.backlog_on_disk ? el('span', { class: 'muted' }, ' +disk') : null),
        el('td', { class: 'num' }, hour.attempts ? percent(hour.success_rate) : '–'),
        el('td', { class: 'num' }, hour.attempts ? ms(hour.p50_ms) + ' / ' + ms(hour.p99_ms) : '–'),
        el('td', { class: 'wrap muted' }, live.last_error || ''));
    });
    fillBody($('subscribers'), rows, 9, 'no subscribers');
  }

  // ---- charts ------------------------------------------------------------------

  const CHART = { width: 420, height: 130, left: 34, right: 46, top: 8, bottom: 18 };

  // A round number at or above `value`, for an axis: 1, 2, 5, 10, 20, 50 ...
  function niceCeiling(value) {
    if (!(value > 0)) return 1;
    const step = Math.pow(10, Math.floor(Math.log10(value)));
    for (const m of [1, 2, 5, 10]) if (value <= m * step) return m * step;
    return 10 * step;
  }

  // One line per series; a null value breaks the line (no attempts then).
  function linePath(points, x, y) {
    let d = '';
    let pen = false;
    points.forEach((value, i) => {
      if (value === null || value === undefined) {
        pen = false;
        return;
      }
      d += (pen ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(value).toFixed(1);
      pen = true;
    });
    return d;
  }

  function chart(title, points, windowName) {
    const c = CHART;
    const n = Math.max(points.length, 2);
    const plotWidth = c.width - c.left - c.right;
    const plotHeight = c.height - c.top - c.bottom;
    const x = (i) => c.left + (plotWidth * i) / (n - 1);
    const rateY = (v) => c.top + plotHeight * (1 - v / 100);
    const latencies = points.flatMap((p) => [p.p50_ms, p.p99_ms]).filter((v) => v !== null);
    const msMax = niceCeiling(Math.max(0, ...latencies));
    const msY = (v) => c.top + plotHeight * (1 - v / msMax);

    const parts = [];
    for (const f of [0, 0.5, 1]) {
      const yy = c.top + plotHeight * (1 - f);
      parts.push(svg('line', { class: 'grid', x1: c.left, x2: c.width - c.right, y1: yy, y2: yy }));
      parts.push(svg('text', { x: c.left - 4, y: yy + 3, 'text-anchor': 'end' }, Math.round(100 * f) + '%'));
      parts.push(svg('text', { x: c.width - c.right + 4, y: yy + 3 }, formatAxisMs(msMax * f)));
    }
    parts.push(svg('text', { x: c.left, y: c.height - 4 }, '−' + windowName));
    parts.push(svg('text', { x: c.width - c.right, y: c.height - 4, 'text-anchor': 'end' }, 'now'));

    const series = [
      ['rate', points.map((p) => p.success_rate), rateY],
      ['p50', points.map((p) => p.p50_ms), msY],
      ['p99', points.map((p) => p.p99_ms), msY],
    ];
    for (const [cls, values, y] of series) {
      parts.push(svg('path', { class: cls, d: linePath(values, x, y) }));
      values.forEach((v, i) => {
        if (v !== null && v !== undefined)
          parts.push(svg('circle', { class: cls, cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 2 },
                         svg('title', {}, tooltip(points[i]))));
      });
    }
    const attempts = points.reduce((sum, p) => sum + p.attempts, 0);
    return el('div', { class: 'chart', 'data-chart': title },
      el('h3', {}, title, el('span', { class: 'muted' }, '  ' + attempts + ' attempts')),
      svg('svg', { viewBox: '0 0 ' + c.width + ' ' + c.height, role: 'img',
                   'aria-label': title + ': success rate and latency' }, parts));
  }

  function formatAxisMs(value) {
    return value >= 1000 ? value / 1000 + 's' : +value.toFixed(2) + 'ms';
  }

  function tooltip(p) {
    return clock(p.start) + ': ' + p.attempts + ' attempts, ' + percent(p.success_rate) +
      ', p50 ' + ms(p.p50_ms) + ', p99 ' + ms(p.p99_ms);
  }

  function renderCharts(series) {
    const charts = [chart('node', series.node.points, series.window)];
    for (const s of series.subscribers || []) charts.push(chart(s.subscriber, s.points, series.window));
    $('charts').replaceChildren(...charts);
  }

  // ---- queue and dead letters ----------------------------------------------------

  function renderQueue(queue) {
    const rows = (queue.subscribers || []).map((s) =>
      el('tr', { 'data-subscriber': s.subscriber },
        el('td', {}, s.subscriber, s.configured === false ? el('span', { class: 'muted' }, ' (not configured)') : null),
        el('td', { class: 'num' }, s.pending),
        el('td', { class: 'muted' }, (s.by_priority || []).join(' / '))));
    fillBody($('queue'), rows, 3, 'nothing pending');
  }

  function renderDlq(dlq) {
    const entries = dlq.entries || [];
    $('dlq-count').textContent = '(' + entries.length + (dlq.next ? '+' : '') + ')';
    const rows = entries.map((e) =>
      el('tr', { 'data-key': e.key },
        el('td', {}, e.key),
        el('td', { class: 'wrap' },
           el('a', { href: '#', onclick: (ev) => { ev.preventDefault(); lookUp(e.event_id); } }, e.event_id)),
        el('td', {}, e.type),
        el('td', { class: 'num' }, e.attempts),
        el('td', { class: 'wrap muted' }, e.last_error || ''),
        el('td', { class: 'muted' }, clock(e.failed)),
        el('td', {},
          el('button', { type: 'button', class: 'retry', onclick: () => dlqAction('retry', e.key) }, 'Retry'),
          ' ',
          el('button', { type: 'button', class: 'delete', onclick: () => dlqAction('delete', e.key) }, 'Delete'))));
    fillBody($('dlq'), rows, 7, 'no dead letters');
  }

  async function dlqAction(action, key) {
    const message = $('dlq-message');
    try {
      const answer = action === 'retry'
        ? await api('POST', '/v1/dlq/retry', { key })
        : await api('DELETE', '/v1/dlq/' + encodeURIComponent(key));
      message.textContent = answer.status === 200
        ? (action === 'retry' ? 'requeued ' : 'deleted ') + key
        : action + ' ' + key + ' failed: ' + errorOf(answer);
    } catch (e) {
      return failed(e, message, action + ' ' + key + ' failed');
    }
    refresh();
  }

  // ---- event lookup ------------------------------------------------------------

  $('lookup-form').addEventListener('submit', (e) => {
    e.preventDefault();
    lookUp($('lookup-input').value.trim());
  });

  async function lookUp(id) {
    if (!id) return;
    lastEventId = id;
    $('lookup-input').value = id;
    const message = $('lookup-message');
    const result = $('lookup-result');
    message.textContent = 'looking up ' + id + ' …';
    try {
      const answer = await api('GET', '/v1/events/' + encodeURIComponent(id));
      if (answer.status !== 200) {
        result.replaceChildren();
        message.textContent = answer.status === 404
          ? 'no event ' + id + ' in the delivery log (' + errorOf(answer) + ')'
          : 'lookup failed: ' + errorOf(answer);
        return;
      }
      message.textContent = '';
      result.replaceChildren(renderEvent(answer.data));
    } catch (e) {
      failed(e, message, 'lookup failed');
    }
  }

  function renderEvent(event) {
    const deliveries = event.deliveries || [];
    return el('div', { class: 'event', 'data-event': event.id },
      el('p', {},
        el('strong', {}, event.id), ' ', el('code', {}, event.type || ''),
        el('span', { class: 'muted' }, ' created ' + clock(event.created)), ' ',
        el('button', { type: 'button', class: 'replay', onclick: () => replay(event.id) }, 'Replay to all')),
      deliveries.length === 0 ? el('p', { class: 'muted' }, 'no deliveries (no subscriber matched)') : null,
      deliveries.map((d) =>
        el('div', { class: 'delivery', 'data-subscriber': d.subscriber },
          el('h3', {}, d.subscriber, badge(d.outcome || 'unknown'),
             el('button', { type: 'button', class: 'replay-one', onclick: () => replay(event.id, d.subscriber) },
                'Replay to ' + d.subscriber)),
          el('table', { class: 'attempts' },
            el('thead', {}, el('tr', {}, el('th', {}, 'at'), el('th', { class: 'num' }, 'attempt'),
                                 el('th', {}, 'answer'), el('th', { class: 'num' }, 'latency'), el('th', {}, ''))),
            el('tbody', {}, (d.attempts || []).length === 0
              ? el('tr', { class: 'empty' }, el('td', { colspan: 5 }, 'no attempt yet'))
              : d.attempts.map((a) =>
                el('tr', { class: 'attempt' },
                  el('td', {}, clock(a.at)),
                  el('td', { class: 'num' }, a.attempt),
                  el('td', { class: 'wrap' }, a.status ? 'HTTP ' + a.status : (a.error || '')),
                  el('td', { class: 'num' }, ms(a.latency_ms)),
                  el('td', { class: 'muted' }, a.replay ? 'replay' : ''))))))));
  }

  async function replay(id, subscriber) {
    const message = $('lookup-message');
    try {
      const answer = await api('POST', '/v1/events/' + encodeURIComponent(id) + '/replay',
                               subscriber ? { subscriber } : undefined);
      if (answer.status === 202 || answer.status === 200) {
        const to = (answer.data && answer.data.replayed) || [];
        message.textContent = 'replayed ' + id + ' to ' + (to.length ? to.join(', ') : 'no subscriber');
        setTimeout(() => { if (lastEventId === id) lookUp(id); }, 1000);
      } else {
        message.textContent = 'replay failed: ' + errorOf(answer);
      }
    } catch (e) {
      failed(e, message, 'replay failed');
    }
  }

  // ---- start -------------------------------------------------------------------

  if (tokenRequired && !token) askForToken('');
  else start();
})();
