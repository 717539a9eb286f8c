// The web dashboard of `eddy server` in a real browser (headless Debian chromium, driven by
// playwright-core), against a server that tests/integration/dashboard.sh started and that is
// being fed the flights (examples/flights/replay.sh) into topic 'flights'. It checks, as a user
// would see it:
//   * the overview lists the server and the topic 'flights' with a non-zero rate of records in;
//   * the SQL editor runs a push query with Ctrl+Enter: rows arrive with their changelog kinds
//     (+I, -U, +U for an updating aggregate); the table mode applies them (one row per key);
//     Escape stops it and the server's push query ends;
//   * a pipeline created from the editor shows a non-zero rows/s chart and its job graph with the
//     vertices GET /v1/pipelines/{name} reports (source 'flights', sink 'hourly_delays');
//   * the pipeline list shows it RUNNING; cancelling it from the UI makes it CANCELED;
//   * the topic page lists the partitions and tails live messages; the groups page shows lag;
//   * keyboard and accessibility basics: landmarks, every control labelled, Tab leaves the editor;
//   * no request leaves the server's origin (no CDN) and no script error happens.
// Screenshots go to the folder given. Exit code 0 when every check passed, 1 otherwise.
//
// Usage: node dashboard.test.mjs BASE_URL KAFKA_BOOTSTRAP PARTITIONS GROUP SCREENSHOT_DIR
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, bootstrap, partitionsArg, group, shots] = process.argv.slice(2);
const partitions = Number(partitionsArg);
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
let fails = 0;
const ok = (m) => console.log(`  ok: ${m}`);
const bad = (m) => {
  console.log(`  FAIL: ${m}`);
  fails++;
};
const check = (cond, m, detail = '') => (cond ? ok(m) : bad(`${m}${detail ? `: ${detail}` : ''}`));
const api = async (p) => (await fetch(base + p)).json();
const num = (t) => Number(String(t).replace(/[^0-9.]/g, '')) || 0;

// Waits until fn() is truthy (polled every 200 ms); its last value, or null after `ms`.
async function until(fn, ms = 20000) {
  const end = Date.now() + ms;
  for (;;) {
    let v = null;
    try {
      v = await fn();
    } catch {
      v = null;
    }
    if (v) return v;
    if (Date.now() > end) return null;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const FLIGHTS = `CREATE TABLE flights (
  \`date\` TIMESTAMP(3), delay INT, distance INT, origin STRING, destination STRING,
  WATERMARK FOR \`date\` AS \`date\` - INTERVAL '5' MINUTE
) WITH ('connector' = 'kafka', 'topic' = 'flights', 'properties.bootstrap.servers' = '${bootstrap}',
        'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
`;
const PUSH_SQL = `${FLIGHTS}SELECT origin, COUNT(*) AS flights FROM flights GROUP BY origin;`;
const PIPELINE_SQL = `${FLIGHTS}CREATE TABLE hourly_delays (origin STRING, window_start TIMESTAMP(3),
  window_end TIMESTAMP(3), flights BIGINT, max_delay INT)
WITH ('connector' = 'kafka', 'topic' = 'hourly_delays', 'properties.bootstrap.servers' = '${bootstrap}',
      'format' = 'json');
INSERT INTO hourly_delays
SELECT origin, window_start, window_end, COUNT(*), MAX(delay)
FROM TABLE(TUMBLE(TABLE flights, DESCRIPTOR(\`date\`), INTERVAL '1' HOUR))
GROUP BY origin, window_start, window_end;`;

fs.mkdirSync(shots, { recursive: true });
const t0 = Date.now();
const browser = await chromium.launch({
  executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const foreign = [];
  const errors = [];
  const watches = [];  // GET /v1/watch streams the pages opened (live updates over SSE)
  const gets = [];     // plain GETs of /v1/pipelines (a page that polled would repeat them)
  page.on('request', (r) => {
    if (!r.url().startsWith(`${base}/`) && !r.url().startsWith('data:')) foreign.push(r.url());
    const u = new URL(r.url());
    if (u.pathname === '/v1/watch') watches.push(u.searchParams.getAll('path'));
    if (u.pathname === '/v1/pipelines' && r.method() === 'GET') gets.push(Date.now());
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // Not errors: the 400 of the bad script below (the browser logs every failed request), and
    // the aborted streams of stopped queries.
    if (m.type() === 'error' && !/ERR_ABORTED|AbortError|aborted|status of 400/i.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  const shot = async (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  console.log('== overview');
  await page.goto(`${base}/`);
  const rate = await until(async () => {
    const t = await page.locator('#overview-topics tr[data-key="flights"] .rate').textContent({ timeout: 1000 });
    return num(t) > 0 ? t : null;
  });
  check(rate, `the overview lists topic 'flights' with ${rate} records/s in`);
  const bs = await page.locator('.facts dd code').textContent();
  check(bs === bootstrap, `the overview names the Kafka listener ${bs}`, `want ${bootstrap}`);
  await shot('overview');

  console.log('== accessibility basics');
  check(await page.locator('main').count() === 1 && await page.locator('nav[aria-label]').count() === 1 &&
    await page.locator('header').count() === 1, 'landmarks: one header, one labelled nav, one main');
  await page.keyboard.press('Tab');
  check(await page.evaluate(() => document.activeElement.classList.contains('skip')), 'the first Tab reaches the skip link');

  console.log('== SQL editor: a push query, run with Ctrl+Enter');
  await page.getByRole('navigation').getByRole('link', { name: 'SQL editor' }).click();
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('main input, main select, main textarea')]
    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.id || e.tagName));
  check(unlabelled.length === 0, 'every control of the editor has a label', unlabelled.join(', '));
  const editor = page.getByLabel('SQL script (statements separated by ;)');
  await editor.fill(PUSH_SQL);
  await editor.press('Tab');
  check(await page.evaluate(() => document.activeElement.id) === 'run', 'Tab moves from the editor to the Run button');
  await editor.focus();
  await editor.press('Control+Enter');
  // An updating aggregate: each airport's first count is +I, each later one -U then +U. The
  // table shows the newest 500 rows, the status counts every row by kind.
  const kinds = await until(async () => {
    const ops = new Set(await page.locator('#result-table td.op').allTextContents());
    const status = await page.locator('#query-status').textContent();
    return ops.has('-U') && ops.has('+U') && /\+I [\d,]+/.test(status) ? [...ops].sort() : null;
  });
  check(kinds && kinds.every((k) => ['+I', '-U', '+U'].includes(k)), `rows arrive with their changelog kinds: ${kinds}`);
  const status = await page.locator('#query-status').textContent();
  const counted = (k) => num((status.match(new RegExp(`\\${k} ([\\d,]+)`)) || [])[1]);
  check(/^Running: [\d,]+ rows/.test(status) && counted('-U') === counted('+U') && counted('-U') > 0,
    `the status counts them while it runs, as many -U as +U: "${status}"`);
  await shot('sql-changelog');
  await page.selectOption('#mode', 'table');
  // The status and the table are redrawn together: read both at once.
  const [origins, statusNow] = await page.evaluate(() => [
    [...document.querySelectorAll('#result-table tbody tr td:first-child')].map((td) => td.textContent),
    document.getElementById('query-status').textContent]);
  const inserted = num((statusNow.match(/\+I ([\d,]+)/) || [])[1]);
  check(origins.length > 1 && new Set(origins).size === origins.length && origins.length === inserted,
    `the table mode applies the changelog: ${origins.length} airports, each once, one per +I (${inserted})`);
  await shot('sql-table');
  check((await api('/v1/health')).push_queries_running === 1, 'the server runs one push query');
  await editor.press('Escape');
  const stopped = await until(async () => /^Stopped after/.test(await page.locator('#query-status').textContent()));
  check(stopped, 'Escape stops the query');
  check(await until(async () => (await api('/v1/health')).push_queries_running === 0, 10000),
    'the server ends the push query when the page stops reading');

  console.log('== SQL editor: a bad script is refused with its position');
  await editor.fill('SELECT nope FROM nowhere');
  await page.getByRole('button', { name: 'Run' }).click();
  const err = await until(async () => page.locator('#sql-error pre.error').textContent({ timeout: 500 }));
  check(err && /line 1, column \d+/.test(err), `the error names line and column: ${err && err.split('\n')[0]}`);

  console.log('== SQL editor: create a pipeline');
  await editor.fill(PIPELINE_SQL);
  await page.getByLabel('Pipeline name').fill('delays');
  await page.getByRole('button', { name: 'Create pipeline' }).click();
  check(await until(async () => page.url().endsWith('#/pipelines/delays')), 'the editor opens the new pipeline\'s page');
  const readRate = await until(async () => {
    const v = Number(await page.locator('#chart-read').getAttribute('data-current', { timeout: 500 }));
    return v > 0 ? v : null;
  }, 30000);
  check(readRate, `the rows/s chart shows a non-zero rate: ${readRate && readRate.toFixed(1)} rows/s`);
  const apiVertices = (await api('/v1/pipelines/delays')).job.vertices.map((v) => v.name);
  const uiVertices = await until(async () => {
    const names = await page.locator('svg.graph g.vertex').evaluateAll((gs) => gs.map((g) => g.dataset.name));
    return names.length === apiVertices.length ? names : null;
  });
  check(uiVertices && apiVertices.length >= 2 && uiVertices.every((n, i) => n === apiVertices[i]),
    `the job graph draws the ${apiVertices.length} vertices of GET /v1/pipelines/delays`, `${uiVertices} vs ${apiVertices}`);
  check(uiVertices && /^Source: flights/.test(uiVertices[0]) && uiVertices.some((n) => n.includes('hourly_delays')),
    `from the source 'flights' to the sink 'hourly_delays': ${uiVertices && uiVertices.join(' | ')}`);
  const edges = await page.locator('svg.graph path.edge').count();
  check(edges >= apiVertices.length - 1, `${edges} edges join them`);
  const busy = await until(async () => (await page.locator('svg.graph g.vertex').evaluateAll(
    (gs) => gs.filter((g) => Number(g.dataset.rate) > 0).length)) > 0);
  check(busy, 'a vertex shows a live rows/s figure above zero');
  // Backpressure per vertex is what the API reports for it (a ratio from 0 to 1).
  const bps = await page.locator('svg.graph g.vertex').evaluateAll((gs) => gs.map((g) => Number(g.dataset.backpressure)));
  check(bps.length && bps.every((b) => b >= 0 && b <= 1), `each vertex carries its backpressure ratio: ${bps.join(', ')}`);
  const stateChart = await until(async () => {
    const v = Number(await page.locator('#chart-state').getAttribute('data-current', { timeout: 500 }));
    return v > 0 ? v : null;
  }, 15000);
  check(stateChart, `the state size chart shows the pipeline's state: ${stateChart} bytes`);
  await shot('pipeline');

  console.log('== the pipeline list; cancel from the UI');
  await page.getByRole('navigation').getByRole('link', { name: 'Pipelines' }).click();
  const row = page.locator('#pipelines tr[data-key="delays"]');
  check(await until(async () => (await row.locator('.badge').textContent({ timeout: 500 })) === 'RUNNING'),
    'the list shows delays RUNNING');
  await shot('pipelines');
  page.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Cancel delays' }).click();
  check(await until(async () => (await row.locator('.badge').textContent({ timeout: 500 })) === 'CANCELED'),
    'after Cancel the list shows delays CANCELED');
  check((await api('/v1/pipelines/delays')).state === 'CANCELED', 'and the API says CANCELED');
  await shot('pipelines-canceled');

  console.log('== a topic: partitions and a live tail');
  await page.goto(`${base}/#/topics/flights`);
  const parts = await until(async () => {
    const n = await page.locator('#partitions tbody tr[data-key]').count();
    return n === partitions ? n : null;
  });
  check(parts, `the topic page lists the ${partitions} partitions`);
  await page.getByRole('button', { name: 'Start live tail' }).click();
  const tail = await until(async () => {
    const v = await page.locator('#tail tbody tr td.msg').allTextContents();
    return v.length >= 3 ? v : null;
  });
  check(tail && tail.every((v) => typeof JSON.parse(v).origin === 'string'),
    `the live tail shows messages as they are produced: ${tail && tail[0]}`);
  await shot('topic');
  await page.getByRole('button', { name: 'Stop' }).click();

  console.log('== consumer groups');
  await page.getByRole('navigation').getByRole('link', { name: 'Consumer groups' }).click();
  const lag = await until(async () => {
    const t = await page.locator(`#groups tr[data-key="${group}"] td:nth-child(5)`).textContent({ timeout: 500 });
    return num(t) > 0 ? t : null;
  });
  check(lag, `the groups page shows group ${group} with lag ${lag}`);
  await shot('groups');

  check(watches.some((p) => p.includes('/v1/topics')) && watches.some((p) => p.some((x) => x.startsWith('/v1/pipelines/'))),
    `live pages are fed by Server-Sent Events (${watches.length} /v1/watch streams opened)`,
    JSON.stringify(watches));
  // The overview reads /v1/pipelines once over GET and then only through its stream: over its
  // whole visit, far fewer GETs than seconds spent on pages that show the list.
  check(gets.length < 10, `the pipeline list was fetched ${gets.length} times over plain GET, not polled`);
  check(foreign.length === 0, 'no request left the server\'s origin', foreign.join(' '));
  check(errors.length === 0, 'no script error', errors.join(' | '));
} catch (e) {
  bad(`unexpected: ${e.stack || e}`);
} finally {
  await browser.close();
}
console.log(`  (browser checks took ${((Date.now() - t0) / 1000).toFixed(1)} s; screenshots in ${shots})`);
process.exit(fails ? 1 : 0);
