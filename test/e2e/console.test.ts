/// <reference lib="dom" />
/**
 * End-to-end: the headless host (simulated SO-101) driven from real Chromium through playwright-core.
 * Screenshots land in test-artifacts/e2e/ (kept by CI as artifacts; look at them).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRows } from '../main/recording/helpers';
import { createHash } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ART = 'test-artifacts/e2e';
mkdirSync(ART, { recursive: true });

let host: ChildProcess;
let url = '';
let browser: Browser;
let page: Page;
const consoleProblems: string[] = [];

before(async () => {
  assert.ok(existsSync('out/renderer/index.html'), 'build the renderer first (npm test does: npm run build:renderer)');
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  host = spawn(process.execPath, ['--import', 'tsx', 'main/host/cli.ts', '--port', '0', '--seed', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  url = await new Promise<string>((res, rej) => {
    const t = setTimeout(() => rej(new Error(`host did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Reins console at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        res(m[1]!);
      }
    };
    host.stdout!.on('data', onData);
    host.stderr!.on('data', onData);
    host.once('exit', (c) => rej(new Error(`host exited (${c}):\n${out}`)));
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => consoleProblems.push(`pageerror: ${e.message}`));
  await page.goto(url);
});

after(async () => {
  await browser?.close();
  host?.kill('SIGTERM');
});

/** A hash of what the camera canvas shows (an element screenshot: no readback from the page's own context). */
async function canvasHash(key: string): Promise<string> {
  const png = await page.locator(`[data-testid="camera-${key}"]`).screenshot();
  return createHash('sha1').update(png).digest('hex');
}

async function jointValue(name: string): Promise<number> {
  const t = await page.textContent(`[data-testid="joint-value-${name}"]`);
  return Number.parseFloat(t ?? 'NaN');
}

test('the console loads with both camera views and no console errors', async () => {
  await page.waitForSelector('[data-testid="camera-front"]', { timeout: 20_000 });
  await page.waitForSelector('[data-testid="camera-wrist"]');
  // "loop 29.8 / 30 Hz": the loop runs and telemetry arrives
  await page.waitForFunction(() => Number(/([\d.]+)\s*\//.exec(document.querySelector('[data-testid="status-hz"]')?.textContent ?? '')?.[1] ?? 0) > 5, undefined, { timeout: 20_000 });
  // a first start offers the shipped demo VLA as the policy to start
  await page.waitForFunction(() => (document.querySelector('[data-testid="policy-select"]') as HTMLSelectElement | null)?.value === 'demo', undefined, { timeout: 20_000 });
  await page.screenshot({ path: `${ART}/01-loaded.png` });
  assert.deepEqual(consoleProblems, []);
});

test('the expert moves the arm and both camera views change over time', async () => {
  await page.selectOption('[data-testid="policy-select"]', 'expert');
  await page.click('[data-testid="policy-start"]');
  await page.waitForFunction(() => /policy/i.test(document.querySelector('[data-testid="source-badge"]')?.textContent ?? ''), undefined, { timeout: 10_000 });
  const f0 = await canvasHash('front');
  const w0 = await canvasHash('wrist');
  const body = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex'];
  const before = await Promise.all(body.map(jointValue));
  await page.waitForTimeout(2500);
  const f1 = await canvasHash('front');
  const w1 = await canvasHash('wrist');
  await page.screenshot({ path: `${ART}/02-expert.png` });
  assert.notEqual(f1, f0, 'front camera did not change');
  assert.notEqual(w1, w0, 'wrist camera did not change');
  const after = await Promise.all(body.map(jointValue));
  assert.ok(after.some((v, i) => Math.abs(v - before[i]!) > 0.5), `no joint moved: ${before} → ${after}`);
  await page.click('[data-testid="policy-stop"]');
});

test('a jog key takes over and moves the selected joint', async () => {
  await page.click('body');
  await page.keyboard.press('3'); // elbow_flex
  const before = await jointValue('elbow_flex');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowUp');
  await page.waitForFunction((b) => Number.parseFloat(document.querySelector('[data-testid="joint-value-elbow_flex"]')?.textContent ?? 'NaN') > b + 5, before, { timeout: 5000 });
  assert.match((await page.textContent('[data-testid="source-badge"]')) ?? '', /operator/i);
  await page.screenshot({ path: `${ART}/03-jog.png` });
});

test('the e-stop takes control, holds, and the help overlay lists the keys', async () => {
  await page.click('[data-testid="estop"]');
  await page.waitForFunction(() => /e-?stop/i.test(document.querySelector('[data-testid="source-badge"]')?.textContent ?? ''), undefined, { timeout: 3000 });
  const held = await jointValue('elbow_flex');
  await page.keyboard.press('ArrowUp');
  await page.waitForTimeout(400);
  assert.equal(await jointValue('elbow_flex'), held);
  await page.screenshot({ path: `${ART}/04-estop.png` });
  // Space and a second click on E-STOP only ever engage: a double tap cannot release it
  await page.keyboard.press('Space');
  await page.keyboard.press('Space');
  await page.click('[data-testid="estop"]');
  await page.waitForTimeout(300);
  assert.match((await page.textContent('[data-testid="source-badge"]')) ?? '', /e-?stop/i);
  await page.waitForSelector('[data-testid="estop-release"]');
  await page.keyboard.press('?');
  await page.waitForSelector('[data-testid="help-overlay"]');
  const help = (await page.textContent('[data-testid="help-overlay"]')) ?? '';
  for (const k of ['Space', 'Esc', '↑']) assert.ok(help.includes(k), `help overlay lacks ${k}`);
  await page.screenshot({ path: `${ART}/05-help.png` });
  assert.deepEqual(consoleProblems, []);
});

test('record an episode from the UI: create a dataset, start, end, and it is on disk and in the list', async () => {
  await page.keyboard.press('?'); // close the help overlay the previous test opened
  await page.waitForSelector('[data-testid="help-overlay"]', { state: 'detached' });
  await page.click('[data-testid="estop-release"]'); // release the e-stop from the previous test: the arm stays in HOLD
  await page.waitForFunction(() => document.querySelector('[data-testid="source-badge"]')?.getAttribute('data-latched') === 'true', undefined, { timeout: 3000 });
  assert.match((await page.textContent('[data-testid="source-badge"]')) ?? '', /hold/i);
  const parent = mkdtempSync(join(tmpdir(), 'reins-e2e-'));
  await page.click('[data-testid="record-open"]');
  await page.waitForSelector('[data-testid="record-panel"]');
  await page.fill('[data-testid="dataset-root"]', parent);
  await page.fill('[data-testid="dataset-repo"]', 'lab/e2e');
  await page.fill('[data-testid="dataset-task"]', 'pick up the red block and put it in the bowl');
  await page.click('[data-testid="dataset-open"]');
  await page.waitForSelector('[data-testid="episode-start"]', { timeout: 15_000 });
  await page.click('[data-testid="episode-start"]');
  await page.waitForSelector('[data-testid="episode-end"]');
  await page.waitForTimeout(2000);
  await page.screenshot({ path: `${ART}/06-recording.png` });
  await page.click('[data-testid="episode-end"]');
  await page.waitForSelector('[data-testid="episode-review-0"]', { timeout: 20_000 });
  await page.screenshot({ path: `${ART}/07-episode-list.png` });
  const rows = await readRows(join(parent, 'lab/e2e/data/chunk-000/file-000.parquet'));
  assert.ok(rows.length > 20, `only ${rows.length} frames recorded`);
  assert.deepEqual(rows.map((r) => Number(r.index)), rows.map((_, i) => i));
  for (const cam of ['front', 'wrist']) assert.ok(existsSync(join(parent, `lab/e2e/videos/observation.images.${cam}/chunk-000/file-000.mp4`)));
  assert.deepEqual(consoleProblems, []);
});

test('the console reopens its own dataset in the browser: open existing → append → recover', async () => {
  const { cpSync, rmSync } = await import('node:fs');
  const { verifyDataset } = await import('../main/recording/helpers');
  const parent = mkdtempSync(join(tmpdir(), 'reins-e2e-'));
  const ds = join(parent, 'lab/reopen');
  const aside = join(parent, 'staged-copy');
  if (await page.$('[data-testid="recording-stop"]')) await page.click('[data-testid="recording-stop"]');
  if (!(await page.$('[data-testid="record-panel"]'))) await page.click('[data-testid="record-open"]');
  const open = async (create: boolean): Promise<void> => {
    await page.waitForSelector('[data-testid="dataset-open"]', { timeout: 15_000 });
    await page.click(create ? 'text=Create new' : 'text=Open existing (append)');
    await page.fill('[data-testid="dataset-root"]', parent);
    await page.fill('[data-testid="dataset-repo"]', 'lab/reopen');
    await page.fill('[data-testid="dataset-task"]', 'pick up the red block and put it in the bowl');
    await page.click('[data-testid="dataset-open"]');
  };
  const record = async (ms: number): Promise<void> => {
    await page.waitForSelector('[data-testid="episode-start"]', { timeout: 15_000 });
    await page.click('[data-testid="episode-start"]');
    await page.waitForSelector('[data-testid="episode-end"]');
    await page.waitForTimeout(ms);
  };
  await open(true);
  await record(1500);
  await page.click('[data-testid="episode-end"]');
  await page.waitForSelector('[data-testid="episode-review-0"]', { timeout: 20_000 });
  await page.click('[data-testid="recording-stop"]');
  // reopen (the joints are compared as written: shoulder_pan.pos), append one, leave one unfinished
  await open(false);
  await record(1500);
  await page.click('[data-testid="episode-end"]');
  await page.waitForSelector('[data-testid="episode-review-1"]', { timeout: 20_000 });
  await record(2000);
  cpSync(join(ds, '.reins/open-episode'), aside, { recursive: true }); // what a kill would leave
  await page.click('[data-testid="episode-discard"]');
  await page.waitForSelector('[data-testid="episode-start"]');
  await page.click('[data-testid="recording-stop"]');
  await page.waitForSelector('[data-testid="dataset-open"]');
  cpSync(aside, join(ds, '.reins/open-episode'), { recursive: true });
  rmSync(aside, { recursive: true });
  await open(false);
  await page.waitForSelector('[data-testid="recover-banner"]', { timeout: 15_000 });
  await page.waitForTimeout(1000); // the banner stays through the status events (4 a second)
  assert.ok(await page.$('[data-testid="recover-banner"]'), 'the recover banner stays until the operator acts');
  await page.screenshot({ path: `${ART}/08-recover.png` });
  await page.click('[data-testid="recover-keep"]');
  await page.waitForSelector('[data-testid="episode-review-2"]', { timeout: 20_000 });
  await page.screenshot({ path: `${ART}/09-reopened-list.png` });
  const v = await verifyDataset(ds);
  assert.equal(v.info.total_episodes, 3);
  assert.equal(v.tasks.length, 1, 'one task: the console task text, kept across the reopen');
  assert.deepEqual(consoleProblems, []);
});
