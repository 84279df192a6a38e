'use strict';
// The dashboard in a real browser: Debian's chromium, driven headless by
// playwright-core, against a real volleyd (api.token set) and two real
// endpoints (`volley receive`, one answering 200 and one 404).
//
//   node dashboard.test.js VOLLEYD VOLLEY OUTPUT_DIR
//
// It checks that the page asks for the token, shows the node's subscribers
// with their limit, breaker and charts, that a dead letter's Retry button
// sends it to its endpoint again and Delete removes it, and that the event
// lookup shows each subscriber's attempts and replays the event; all with no
// console error. Screenshots go to OUTPUT_DIR. Nothing waits a fixed time:
// every wait polls a condition until a deadline.

const { chromium } = require('playwright-core');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');

const [volleyd, volley, outputDir] = process.argv.slice(2);
if (!volleyd || !volley || !outputDir) {
  console.error('usage: node dashboard.test.js VOLLEYD VOLLEY OUTPUT_DIR');
  process.exit(2);
}

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const WAIT_MS = 15000;

// ---- processes ---------------------------------------------------------------

const children = [];

// Starts a program and keeps its output lines (stdout and stderr together).
function start(name, program, args) {
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc = { name, child, lines: [], exited: null };
  for (const stream of [child.stdout, child.stderr])
    readline.createInterface({ input: stream }).on('line', (line) => proc.lines.push(line));
  child.on('exit', (code, signal) => { proc.exited = { code, signal }; });
  children.push(proc);
  return proc;
}

function stopAll() {
  for (const { child, exited } of children)
    if (!exited) child.kill('SIGTERM');
}

// Polls `condition` (may be async) every 50 ms until it returns a truthy
// value, which it returns; throws `what` at the deadline.
async function until(what, condition, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// The first capture of `pattern` in a process's output, once it appears.
function portFrom(proc, pattern) {
  return until(proc.name + ' to print ' + pattern, () => {
    if (proc.exited) throw new Error(proc.name + ' exited: ' + proc.lines.join('\n'));
    for (const line of proc.lines) {
      const m = line.match(pattern);
      if (m) return Number(m[1]);
    }
    return 0;
  });
}

// Requests `volley receive` printed for an event: "... webhook-id=ID ...".
function received(proc, id) {
  return proc.lines.filter((l) => l.includes(' webhook-id=' + id + ' '));
}

// ---- checks ------------------------------------------------------------------

let passed = 0;
let failed = 0;
async function check(name, body) {
  try {
    await body();
    passed++;
    console.log('ok - ' + name);
  } catch (e) {
    failed++;
    console.log('not ok - ' + name + '\n  ' + String(e.stack || e).replace(/\n/g, '\n  '));
  }
}

function assert(condition, message) {
  if (!condition) throw new Error('assertion failed: ' + message);
}

// ---- the run -----------------------------------------------------------------

async function main() {
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'volley-dashboard-'));
  fs.mkdirSync(outputDir, { recursive: true });

  const good = start('receiver (200)', volley, ['receive', '--port', '0', '--secret', SECRET]);
  const gone = start('receiver (404)', volley, ['receive', '--port', '0', '--status', '404']);
  const listening = /listening on http:\/\/127\.0\.0\.1:(\d+)\//;
  const goodPort = await portFrom(good, listening);
  const gonePort = await portFrom(gone, listening);

  const config = {
    ingress: { host: '127.0.0.1', port: 0 },
    api: { host: '127.0.0.1', port: 0, token: TOKEN },
    storage: { path: path.join(work, 'data') },
    allow_private_networks: true,
    subscribers: [
      { name: 'billing', url: `http://127.0.0.1:${goodPort}/hooks`, events: ['order.*'], secret: SECRET },
      { name: 'legacy', url: `http://127.0.0.1:${gonePort}/hooks`, events: ['order.*'] },
    ],
  };
  const configPath = path.join(work, 'volley.json');
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const daemon = start('volleyd', volleyd, ['--config', configPath]);
  await portFrom(daemon, / listening on 127\.0\.0\.1:(\d+)/);
  const apiPort = await portFrom(daemon, /api listening on 127\.0\.0\.1:(\d+)/);
  const base = `http://127.0.0.1:${apiPort}`;

  // The test's own calls, as a program would make them.
  const call = async (method, p, body) => {
    const headers = { Authorization: 'Bearer ' + TOKEN };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, data: await r.json() };
  };

  const deadLetter = async (id) =>
    (await call('GET', '/v1/dlq?subscriber=legacy')).data.entries.find((e) => e.event_id === id);

  const ids = ['dash_1', 'dash_2', 'dash_3'];
  for (const [i, id] of ids.entries()) {
    const r = await call('POST', '/v1/events', { type: 'order.created', id, data: { n: i } });
    assert(r.status === 200 && r.data.ok, 'event accepted: ' + JSON.stringify(r.data));
  }
  // Each reaches billing, and legacy's 404 puts each in the dead-letter queue.
  await until('3 deliveries and 3 dead letters', async () => {
    const dlq = await call('GET', '/v1/dlq?subscriber=legacy');
    return ids.every((id) => received(good, id).length === 1) && dlq.data.entries.length === 3;
  });

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'volley-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const consoleErrors = [];
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(WAIT_MS);
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text() + ' ' + JSON.stringify(m.location())); });
    page.on('pageerror', (e) => consoleErrors.push('page error: ' + e.message));
    page.on('requestfailed', (r) => consoleErrors.push('request failed: ' + r.url() + ' ' + r.failure().errorText));

    await check('the page loads without the token and asks for it', async () => {
      const response = await page.goto(base + '/');
      assert(response.status() === 200, 'GET / answered ' + response.status());
      await page.locator('#token-panel').waitFor({ state: 'visible' });
      assert(await page.locator('#content').isHidden(), 'no data shown before the token');
      await page.fill('#token-input', TOKEN);
      await page.click('#token-form button[type=submit]');
      await page.locator('#content').waitFor({ state: 'visible' });
    });

    await check('it shows the subscribers of the running node', async () => {
      const rows = page.locator('#subscribers tbody tr[data-subscriber]');
      await until('both subscriber rows', async () => (await rows.count()) === 2);
      const names = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.subscriber));
      assert(JSON.stringify(names) === '["billing","legacy"]', 'rows: ' + names);
      for (const name of ['billing', 'legacy']) {
        const row = page.locator(`#subscribers tr[data-subscriber="${name}"]`);
        // Shown once the subscriber has reported to the monitor (about once a second).
        await until(name + ' in flight / limit of max_in_flight 64', async () =>
          /^\d+ \/ [1-9]\d* \(max 64\)$/.test(await row.locator('td.in-flight').innerText()));
        assert((await row.locator('td.breaker').innerText()) === 'closed', name + ' breaker');
      }
      await until('the node status', async () =>
        ['healthy', 'degraded', 'unhealthy'].includes(await page.locator('#node-status').innerText()));
    });

    await check('it charts each subscriber over the last hour', async () => {
      for (const name of ['node', 'billing', 'legacy'])
        await page.locator(`.chart[data-chart="${name}"] svg circle.rate`).first().waitFor();
      await until('billing 100 % and legacy 0 %, from the series', async () => {
        const rate = async (name) => page.locator(`.chart[data-chart="${name}"] svg circle.rate title`)
          .last().textContent();
        return (await rate('billing')).includes('100.0 %') && (await rate('legacy')).includes('0.0 %');
      });
    });

    await check('it shows the queue and the dead letters', async () => {
      await page.locator('#queue tr[data-subscriber="legacy"]').waitFor();
      for (const n of [1, 2, 3])
        await page.locator(`#dlq tr[data-key="legacy/${n}"]`).waitFor();
    });

    await check('Retry sends a dead letter to its endpoint again', async () => {
      const entry = await deadLetter('dash_1');
      assert(entry, 'dash_1 is a dead letter');
      assert(received(gone, 'dash_1').length === 1, 'legacy saw dash_1 once before the retry');
      await page.locator(`#dlq tr[data-key="${entry.key}"] button.retry`).click();
      await until('the page to say requeued', async () =>
        (await page.locator('#dlq-message').innerText()) === 'requeued ' + entry.key);
      await until('legacy to get dash_1 again', () => received(gone, 'dash_1').length === 2);
    });

    await check('Delete removes a dead letter', async () => {
      const entry = await deadLetter('dash_2');
      await page.locator(`#dlq tr[data-key="${entry.key}"] button.delete`).click();
      await page.locator(`#dlq tr[data-key="${entry.key}"]`).waitFor({ state: 'detached' });
      assert((await page.locator('#dlq-message').innerText()) === 'deleted ' + entry.key, 'message');
      assert(!(await deadLetter('dash_2')), 'dash_2 is no dead letter any more');
    });

    await check('no console errors', async () => {
      assert(consoleErrors.length === 0, consoleErrors.join('\n'));
    });
    await page.screenshot({ path: path.join(outputDir, 'dashboard.png'), fullPage: true });

    // Needs GET /v1/events/{id} and POST /v1/events/{id}/replay (the delivery log).
    await check('the event lookup shows each subscriber\'s attempts', async () => {
      await page.fill('#lookup-input', 'dash_3');
      await page.click('#lookup-form button[type=submit]');
      const billing = page.locator('.event[data-event="dash_3"] .delivery[data-subscriber="billing"]');
      const legacy = page.locator('.event[data-event="dash_3"] .delivery[data-subscriber="legacy"]');
      await until('the lookup', async () =>
        (await billing.count()) === 1 || (await page.locator('#lookup-message').innerText()).includes('HTTP'));
      assert(await billing.count() === 1, 'lookup answered: ' + await page.locator('#lookup-message').innerText());
      assert((await billing.locator('.badge').innerText()) === 'delivered', 'billing outcome');
      assert((await legacy.locator('.badge').innerText()) === 'dead_lettered', 'legacy outcome');
      const cells = async (d) => d.locator('tr.attempt td').allInnerTexts();
      const b = await cells(billing);
      assert(b[1] === '1' && b[2] === 'HTTP 200' && /ms$/.test(b[3]), 'billing attempt: ' + b);
      const l = await cells(legacy);
      assert(l[1] === '1' && l[2] === 'HTTP 404' && /ms$/.test(l[3]), 'legacy attempt: ' + l);
    });

    await check('Replay delivers the event again, signed', async () => {
      const button = page.locator('.event[data-event="dash_3"] button.replay');
      assert(await button.count() === 1, 'no looked-up event to replay');
      await button.click();
      await until('the page to say replayed', async () =>
        (await page.locator('#lookup-message').innerText()).startsWith('replayed dash_3 to '));
      const message = await page.locator('#lookup-message').innerText();
      assert(message === 'replayed dash_3 to billing, legacy', message);
      await until('billing to get dash_3 again', () => received(good, 'dash_3').length === 2);
      assert(received(good, 'dash_3').every((l) => l.includes(' signature=valid ')), received(good, 'dash_3').join('\n'));
      await page.screenshot({ path: path.join(outputDir, 'dashboard-event.png'), fullPage: true });
    });

    await check('still no console errors', async () => {
      assert(consoleErrors.length === 0, consoleErrors.join('\n'));
    });
  } finally {
    await context.close();
    stopAll();
    await until('every process to stop', () => children.every((c) => c.exited), 20000).catch((e) => {
      for (const c of children) if (!c.exited) c.child.kill('SIGKILL');
      throw e;
    });
    const daemonExit = children.find((c) => c.name === 'volleyd').exited;
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(profile, { recursive: true, force: true });
    await check('volleyd stops cleanly', async () => {
      assert(daemonExit.code === 0, 'volleyd exit: ' + JSON.stringify(daemonExit));
    });
    console.log(`screenshots in ${outputDir}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}

main()
  .catch((e) => {
    failed++;
    console.log('not ok - the run stopped: ' + String(e.stack || e));
    stopAll();
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed === 0 ? 0 : 1;
  });
