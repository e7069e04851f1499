/**
 * Issue 12: seeded fuzz of the headless host, over a real console session (simulated arm, its
 * control loop ticking on the real clock). 1,200+ generated and mutated WebSocket messages — wrong
 * types, unknown and prototype-named channels, non-string names and ids, deep nesting, oversized,
 * binary, invalid UTF-8, truncated JSON — and a corpus of hostile URLs (traversal encodings,
 * malformed targets, prototype keys, a symlink out of the served folder, foreign Host/Origin).
 *
 * The host must survive, answer each message with a clear error (or the protocol's close code for
 * what the WebSocket layer itself refuses: 1007 invalid UTF-8, 1009 too big), and the loop must keep
 * ticking: its tick count over the fuzz is compared with its own tick rate measured just before,
 * in the same run (tick counts, not a wall-clock speed). Seed: REINS_FUZZ_SEED (default 12).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ConsoleSession } from '../../../main/services/session';
import { startHost } from '../../../main/host/server';
import { COMMAND_CHANNELS, INVOKE_CHANNELS } from '../../../main/common/channels';
import { ERROR_CODES } from '../../../main/common/errors';
import { get, openWs, rawHttp } from './helpers';

const SEED = Number(process.env.REINS_FUZZ_SEED ?? 12);
const MESSAGES = 1200;

/** mulberry32: small, seeded, good enough to pick cases. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(SEED);
const int = (n: number) => Math.floor(rnd() * n);
const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;

const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', '__lookupSetter__', 'isPrototypeOf'];
const WORDS = ['', ' ', 'x', 'session', 'policy.', '.list', 'estop ', 'JOG', 'dataset.open\u0000', '\u202e', '😀', '../../etc/passwd', 'a'.repeat(300), ...PROTO_NAMES];
/** Channels a fuzzer may hit with valid names (not those that open serial ports or create files: a fuzzer must not scribble on the disk). */
const SAFE_INVOKES = INVOKE_CHANNELS.filter((n) => !['hardware.connect', 'hardware.listPorts', 'dataset.open'].includes(n));
const TEMPLATES: Record<string, unknown> = {
  'sim.reset': { seed: 3 },
  'policy.start': { policy: 'expert' },
  'policy.settings': { speculative: true, relaxedR: 2, ensemble: 'temporal' },
  'hardware.torque': { enabled: false },
  'calibration.begin': { target: 'follower' },
  'dataset.episode': { index: 0 },
  'dataset.replay': { index: 0 },
  'dataset.recover': { action: 'discard' },
  estop: { engaged: true },
  jog: { joint: 'elbow_flex', delta: 1 },
  jogCartesian: { axis: 'z', deltaM: 0.001 },
  frameAck: { camera: 'front' },
};

function randomValue(depth = 0): unknown {
  const k = int(depth > 3 ? 6 : 9);
  switch (k) {
    case 0:
      return null;
    case 1:
      return pick([0, -1, 1e308, -0, 3.5, 2 ** 53 + 1, 1e-320]);
    case 2:
      return pick(WORDS);
    case 3:
      return rnd() < 0.5;
    case 4:
      return { toString: pick([1, {}, null, 'x']) };
    case 5:
      return Object.fromEntries([[pick(PROTO_NAMES), randomValue(depth + 1)]]);
    case 6:
      return Array.from({ length: int(4) }, () => randomValue(depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: int(4) }, () => [pick([...WORDS, 'joint', 'delta', 'engaged', 'index', 'seed']), randomValue(depth + 1)]));
  }
}

function deep(n: number): string {
  return rnd() < 0.5 ? '['.repeat(n) + ']'.repeat(n) : '{"a":'.repeat(n) + '1' + '}'.repeat(n);
}

type Case = { kind: 'text'; data: string; expect: 'invoke' | 'error' | 'maybe' | 'close1009'; id?: number } | { kind: 'binary'; data: Buffer } | { kind: 'badutf8'; data: Buffer };

/** One generated or mutated message, and what the host must do with it. */
function generate(i: number): Case {
  const id = i;
  const r = int(16);
  const name = (): unknown => {
    const c = int(10);
    if (c < 4) return pick([...SAFE_INVOKES, ...COMMAND_CHANNELS]);
    if (c < 6) return pick(PROTO_NAMES);
    if (c < 8) return pick(WORDS);
    return randomValue(1);
  };
  const args = (n: unknown): unknown => {
    const t = typeof n === 'string' ? TEMPLATES[n] : undefined;
    if (t && rnd() < 0.6) {
      // Mutate a valid template: one field replaced, removed, or one added.
      const o = { ...(t as Record<string, unknown>) };
      const keys = Object.keys(o);
      const m = int(3);
      if (m === 0 && keys.length) o[pick(keys)] = randomValue(1);
      else if (m === 1 && keys.length) delete o[pick(keys)];
      else o[pick([...PROTO_NAMES, 'extra'])] = randomValue(1);
      return rnd() < 0.2 ? t : o;
    }
    return rnd() < 0.3 ? {} : randomValue(1);
  };
  switch (r) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const n = name();
      return { kind: 'text', data: JSON.stringify({ t: 'invoke', id, name: n, args: args(n) }), expect: 'invoke', id };
    }
    case 4:
    case 5:
    case 6: {
      const n = name();
      // A well-formed command may be accepted (no answer) or refused by its handler (an error).
      return { kind: 'text', data: JSON.stringify({ t: 'command', name: n, args: args(n) }), expect: typeof n === 'string' && (COMMAND_CHANNELS as readonly string[]).includes(n) ? 'maybe' : 'error' };
    }
    case 7:
      return { kind: 'text', data: JSON.stringify({ t: pick(['reply', 'event', 'INVOKE', '', null, 7, ...PROTO_NAMES]), id, name: name(), args: {} }), expect: 'error' };
    case 8:
      return { kind: 'text', data: JSON.stringify({ t: 'invoke', id: pick<unknown>([null, {}, [], true, { toString: 1 }, 'x'.repeat(200), 1e400]), name: 'session.get', args: {} }).replace('null', pick(['null', 'NaN'])), expect: 'error' };
    case 9:
      return { kind: 'text', data: JSON.stringify(randomValue()), expect: 'error' };
    case 10: {
      const v = JSON.stringify({ t: 'invoke', id, name: 'session.get', args: {} });
      return { kind: 'text', data: v.slice(0, int(v.length - 1)), expect: 'error' }; // truncated
    }
    case 11:
      return rnd() < 0.5 ? { kind: 'text', data: deep(1000 + int(20_000)), expect: 'error' } : { kind: 'text', data: `{"t":"invoke","id":${id},"name":"session.get","args":${deep(1000 + int(10_000))}}`, expect: 'invoke', id };
    case 12:
      return rnd() < 0.7 ? { kind: 'text', data: JSON.stringify({ t: 'command', name: 'jog', args: { joint: 'x', delta: 1, pad: 'p'.repeat(70_000 + int(100_000)) } }), expect: 'error' } : { kind: 'text', data: 'x'.repeat(300_000), expect: 'close1009' };
    case 13:
      return { kind: 'binary', data: Buffer.from(Array.from({ length: 1 + int(64) }, () => int(256))) };
    case 14:
      return { kind: 'badutf8', data: Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0xc3, 0x28, 0xff, 0xfe, 0x7d]) };
    default:
      return { kind: 'text', data: pick(['', ' ', 'null', 'true', '[]', '"str"', '1', '{}', '{"t":"invoke"}', '\u0000', '{"__proto__":{"t":"invoke"}}', '{"t":"command","name":"__proto__"}', '{"t":"invoke","id":1,"name":"constructor","args":{}}']), expect: 'maybe' };
  }
}

/** A client that sends one case, then an invoke 'ping', and returns what it got in between. */
class Client {
  ws!: WebSocket;
  private got: any[] = [];
  private closed: number | undefined;
  private waiter: (() => void) | undefined;
  constructor(private readonly url: string) {}
  async connect(): Promise<void> {
    this.ws = await openWs(this.url);
    this.closed = undefined;
    this.got = [];
    this.ws.on('message', (d, bin) => {
      if (bin) return; // camera frames
      const m = JSON.parse(d.toString());
      if (m.t === 'event') return;
      this.got.push(m);
      this.waiter?.();
    });
    this.ws.on('close', (code) => {
      this.closed = code;
      this.waiter?.();
    });
  }
  private until(pred: () => boolean, ms = 10_000): Promise<void> {
    return new Promise((res, rej) => {
      if (pred()) return res();
      const t = setTimeout(() => rej(new Error(`no answer; got ${JSON.stringify(this.got).slice(0, 300)}`)), ms);
      this.waiter = () => {
        if (!pred()) return;
        clearTimeout(t);
        this.waiter = undefined;
        res();
      };
    });
  }
  async roundTrip(c: Case, ping: string): Promise<{ answers: any[]; closed?: number }> {
    this.got = [];
    if (c.kind === 'binary') this.ws.send(c.data, { binary: true });
    else if (c.kind === 'badutf8') this.ws.send(c.data, { binary: false });
    else this.ws.send(c.data);
    if (c.kind === 'badutf8' || (c.kind === 'text' && c.expect === 'close1009')) {
      await this.until(() => this.closed !== undefined);
      return { answers: this.got, closed: this.closed };
    }
    this.ws.send(JSON.stringify({ t: 'invoke', id: ping, name: 'session.get', args: {} }));
    // An invoke's reply may come after the ping's (its handler awaits I/O): wait for both.
    const id = c.kind === 'text' ? c.id : undefined;
    await this.until(() => this.got.some((m) => m.t === 'reply' && m.id === ping) && (id === undefined || this.got.some((m) => m.t === 'reply' && m.id === id) || this.got.some((m) => m.t === 'error')));
    return { answers: this.got.filter((m) => !(m.t === 'reply' && m.id === ping)) };
  }
}

function clearError(e: any, where: string): void {
  assert.ok(e && typeof e === 'object', `${where}: no error object`);
  assert.ok((ERROR_CODES as readonly string[]).includes(e.code), `${where}: unknown code ${e.code}`);
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 5, `${where}: empty message`);
  assert.doesNotMatch(e.message, /\n\s+at /, `${where}: a stack trace`);
}

const dir = mkdtempSync(join(tmpdir(), 'reins-fuzz-'));
writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Reins</title>');
writeFileSync(join(tmpdir(), `reins-fuzz-secret-${process.pid}.txt`), 'SECRET');
symlinkSync(join(tmpdir(), `reins-fuzz-secret-${process.pid}.txt`), join(dir, 'leak.js'));
const session = new ConsoleSession({ rateHz: 30, seed: 2, cameraWidth: 224, cameraHeight: 224, homeDir: join(dir, 'home'), bundlesDir: join(dir, 'no-bundles') });
await session.start();
const host = await startHost({ host: '127.0.0.1', port: 0, rendererDir: dir, api: session.api, fileRoots: () => session.fileRoots() });
after(async () => {
  await host.close();
  await session.stop();
});
const port = Number(new URL(host.url).port);

async function ticksOver(ms: number): Promise<number> {
  const t0 = session.loop.stats().ticks;
  await new Promise((r) => setTimeout(r, ms));
  return session.loop.stats().ticks - t0;
}

test(`fuzz (seed ${SEED}): ${MESSAGES} hostile WebSocket messages each get a clear answer, the host survives, the loop keeps ticking`, { timeout: 240_000 }, async () => {
  const baseline = await ticksOver(2000); // the loop's own rate on this machine now
  assert.ok(baseline > 10, `the loop ticked ${baseline} times in 2 s before the fuzz`);
  const t0 = performance.now();
  const ticks0 = session.loop.stats().ticks;
  const clients = Array.from({ length: 8 }, () => new Client(`ws://127.0.0.1:${port}/ws`));
  for (const c of clients) await c.connect();
  const counts = new Map<string, number>();
  const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  const cases = Array.from({ length: MESSAGES }, (_, i) => generate(i));
  await Promise.all(
    clients.map(async (cl, ci) => {
      for (let i = ci; i < cases.length; i += clients.length) {
        const c = cases[i]!;
        const where = `case ${i} (${c.kind} ${c.kind === 'text' ? c.data.slice(0, 80) : c.data.toString('hex').slice(0, 40)})`;
        const { answers, closed } = await cl.roundTrip(c, `ping-${i}`);
        if (c.kind === 'badutf8') {
          assert.equal(closed, 1007, `${where}: invalid UTF-8 closes with 1007`);
          bump('closed 1007');
          await cl.connect();
          continue;
        }
        if (c.kind === 'text' && c.expect === 'close1009') {
          assert.equal(closed, 1009, `${where}: an oversized message closes with 1009`);
          bump('closed 1009');
          await cl.connect();
          continue;
        }
        if (c.kind === 'text' && (c.expect === 'maybe' || c.expect === 'invoke') && answers.length === 0) {
          assert.notEqual(c.expect, 'invoke', `${where}: no reply`);
          bump('accepted');
          continue;
        }
        assert.equal(answers.length, 1, `${where}: ${answers.length} answers: ${JSON.stringify(answers).slice(0, 300)}`);
        const a = answers[0];
        if (a.t === 'reply' && a.ok) {
          bump('ok');
          continue;
        }
        assert.ok(a.t === 'reply' || a.t === 'error', `${where}: answer ${JSON.stringify(a).slice(0, 200)}`);
        clearError(a.error, where);
        bump(a.error.code);
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const ticks = session.loop.stats().ticks - ticks0;
  for (const c of clients) c.ws.terminate();
  console.log(`fuzz seed ${SEED}: ${MESSAGES} messages in ${(elapsed / 1000).toFixed(1)} s; outcomes ${JSON.stringify(Object.fromEntries(counts))}; loop ${ticks} ticks (baseline ${(baseline / 2).toFixed(1)} ticks/s, during ${((ticks / elapsed) * 1000).toFixed(1)} ticks/s)`);
  assert.ok((counts.get('bad_request') ?? 0) > 100 && (counts.get('unknown_channel') ?? 0) > 20, 'the generator reached the validators');
  // The loop kept its rate: at least half the ticks its own baseline rate predicts for the fuzz's duration
  // (a shared 2-core machine; the unfixed host fell to about a third under 20 policy.list calls).
  assert.ok(ticks >= 0.5 * (baseline / 2000) * elapsed, `the loop ticked ${ticks} times in ${elapsed.toFixed(0)} ms; its baseline was ${baseline} per 2 s`);
  assert.ok((await ticksOver(500)) > 0, 'the loop is still ticking after the fuzz');
  assert.equal((await get(port, '/')).status, 200);
});

test(`fuzz: hostile URLs are refused with a status, never served outside the folder, and the host survives`, { timeout: 60_000 }, async () => {
  const targets = [
    '//[', '//[::1', 'http://[/', '//%', '/%', '/%zz', '/%E0%A4%A', '/%00', '/index.html%00.js', '/..', '/../', '/%2e%2e/', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/..%2f..%2fetc%2fpasswd', '/..%5c..%5cwindows', '/%252e%252e%252f',
    '/.%2e/.%2e/etc/passwd', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/leak.js', '/./leak.js', '//leak.js', '/files', '/files/', '/files/dataset', '/files/dataset/../../../../etc/passwd', '/files/dataset/%2e%2e/x',
    ...PROTO_NAMES.flatMap((n) => [`/files/${n}/x`, `/files/${n}/`, `/files/${encodeURIComponent(n)}/x`, `/${n}`]), '/ws', '/ws?token=__proto__', '/?token[]=1', `/${'a'.repeat(8000)}`, '*', 'http://evil.example/', 'http://127.0.0.1@evil.example/',
  ];
  for (let i = 0; i < 200; i++) {
    // Mutations: random bytes and escapes spliced into a traversal target.
    const base = pick(targets);
    const at = int(base.length + 1);
    targets.push(base.slice(0, at) + pick(['%2e', '%2f', '%5c', '..', '/', '%', '%00', '[', ']', '@', '?', '#', '\\', '%ff']) + base.slice(at));
  }
  const statuses = new Map<number, number>();
  for (const t of targets) {
    const req = `GET ${t} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`;
    const r = await rawHttp(port, req).catch((e: Error) => ({ status: -1, head: '', body: e.message }));
    assert.ok(r.status !== -1, `${t}: no HTTP answer (${r.body})`);
    statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    assert.doesNotMatch(r.body, /SECRET|root:x:0/, `${t} leaked a file`);
    if (r.status === 200) assert.match(r.body, /<title>Reins<\/title>/, `${t} served something other than the page`);
  }
  for (const h of <Record<string, string>[]>[{ Host: 'evil.example' }, { Host: `evil.example:${port}`, Origin: `http://evil.example:${port}` }, { Host: '' }, { Host: '[' }, { Host: `127.0.0.1:${port}`, Origin: 'null' }]) {
    const r = await get(port, '/', h);
    assert.ok(r.status >= 400, `${JSON.stringify(h)} → ${r.status}`);
  }
  console.log(`hostile URLs: ${targets.length}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`);
  assert.equal((await get(port, '/')).status, 200);
});
