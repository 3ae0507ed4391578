import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { seedTestEvent } from '../support/catalog';
import { uid } from '../support/env';
import { dropKeyPrefix, startTestPlatform } from '../support/platform';
import { queueClient, queuedEntry } from '../admission/support';

/**
 * The waiting room in a real headless Chromium against an in-process api on the real services
 * (docs/admission.md): a queued event with one admission at a time, held by another buyer; the
 * page waits in line, moves on to the seat map by itself once that buyer buys, shows the
 * session's countdown, and buys with its Admission-Token.
 */
const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(__dirname, '..', '..');
const WEB_SRC = path.join(ROOT, 'src', 'web', 'app');
const WEB_INDEX = path.join(ROOT, 'dist', 'web', 'index.html');
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

const eventId = uid('Wr');
let platform: Awaited<ReturnType<typeof startTestPlatform>>;
let cleanup: () => Promise<void>;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const admissionHeaders: { url: string; token: boolean; status?: number }[] = [];

function ensureWebBuild(): void {
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((e) =>
        e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs,
      ),
    );
  if (existsSync(WEB_INDEX) && statSync(WEB_INDEX).mtimeMs >= newest(WEB_SRC)) return;
  execFileSync('npm', ['run', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}; run \`bash scripts/ensure-chromium.sh\`.`);
  mkdirSync(ARTIFACTS, { recursive: true });
  ensureWebBuild();
  platform = await startTestPlatform(['api'], { ADMISSION_PUMP_INTERVAL_MS: '100' });
  const rows = ['A', 'B', 'C', 'D', 'E'];
  cleanup = await seedTestEvent(
    platform.ctx.redis,
    platform.cfg.REDIS_KEY_PREFIX,
    queuedEntry({ eventId, zones: [{ zoneId: '1', rows, seatCounts: rows.map(() => 10) }] }, { activeBuyers: 1, sessionSeconds: 600 }),
  );
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('request', (r) => {
    if (r.method() === 'POST' && /\/(holds|purchases)$/.test(r.url()))
      admissionHeaders.push({ url: r.url(), token: Boolean(r.headers()['admission-token']) });
  });
  page.on('response', (r) => {
    const seen = admissionHeaders.find((a) => a.url === r.url() && a.status === undefined);
    if (seen) seen.status = r.status();
    if (r.status() >= 500) pageErrors.push(`${r.status()} ${r.url()}`);
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await cleanup?.();
  if (platform) {
    await dropKeyPrefix(platform.ctx.redis, platform.cfg.REDIS_KEY_PREFIX);
    await platform.stop();
  }
});

test('a queued event: the page waits in line, moves on to the seat map when admitted, counts the session down and buys with its token', async () => {
  const q = queueClient(platform.url, eventId);
  // Another buyer holds the only admission.
  const early = await q.join('early-buyer');
  expect(early.body.status).toBe('ADMITTED');

  await page.goto(`${platform.url}/#/events/${eventId}`);
  await page.getByRole('heading', { level: 1, name: `Waiting room: Test ${eventId}` }).waitFor();
  const place = page.locator('.queue-place');
  await page.waitForFunction(`document.querySelector('.queue-place')?.textContent === '1'`);
  expect(await place.textContent()).toBe('1');
  expect(await page.getByRole('progressbar', { name: 'Progress in the waiting room' }).count()).toBe(1);
  expect(await page.locator('.queue-wait').textContent()).toMatch(/^(about .+|any moment now)$/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'waiting-room.png') });

  // The other buyer buys: the admission passes to the page, which opens the seat map by itself.
  const bought = await q.buy('early-buyer', [{ row: 'E', column: 10 }], early.body.admissionToken);
  expect(bought.status).toBe(201);
  const admittedAt = Date.now();
  await page.getByRole('button', { name: 'Row A, Seat 1', exact: true }).waitFor({ timeout: 5000 });
  const movedMs = Date.now() - admittedAt;
  expect(page.url()).toContain(`#/events/${eventId}/zones/1`);
  expect(movedMs).toBeLessThan(3000);
  const banner = page.getByRole('region', { name: 'Admission session' });
  await banner.waitFor();
  expect(await banner.textContent()).toMatch(/your admission ends in (9:5\d|10:00)/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'waiting-room-admitted.png') });

  await page.getByRole('button', { name: 'Row A, Seat 1', exact: true }).click();
  await page.getByRole('button', { name: 'Buy 1 seat' }).click();
  await page.getByRole('list', { name: 'Your tickets' }).getByRole('listitem').first().waitFor();
  expect(admissionHeaders.filter((a) => a.url.endsWith('/purchases'))).toEqual([
    { url: `${platform.url}/api/v1/events/${eventId}/purchases`, token: true, status: 201 },
  ]);
  // Buying ended the admission: the banner says so and offers the waiting room again.
  await page.getByRole('button', { name: 'Join the waiting room again' }).waitFor();
  expect(await banner.textContent()).toMatch(/You bought: your admission has ended/);
  expect(pageErrors).toEqual([]);
}, 60_000);
