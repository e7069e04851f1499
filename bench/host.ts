/**
 * npm run bench:host [-- --seconds S] [--clients N] [--rate HZ]
 *
 * The headless host under hostile load (issue 12): the control loop's rate and tick times and the
 * host process's RSS, before (idle, the baseline of the same run), during and after each of
 *   a) flood     N clients sending small messages as fast as they can (far over the rate limit)
 *   b) large     N clients sending 60 KB messages under the rate and byte limits (each is parsed)
 *   c) slow      N clients that never read, acknowledge every frame blindly and keep invoking
 *   d) expensive N clients each keeping four policy.list / session.get / dataset.episodes in
 *                flight (backing off 250 ms when answered rate_limited, as the renderer would)
 *   e) rebundle  as d, with a bundle's files touched every 200 ms (each list revalidates it)
 * The host (a real session: simulated SO-101, its two cameras, the scripted expert driving it)
 * runs in a child process, so its RSS is its own; the clients run here. The loop reports over
 * IPC, not over the sockets under test.
 *
 * Prints a table (rate = ticks / phase seconds; period = time between tick starts; tick = the
 * tick's own work), then one JSON line. Figures on a shared machine are noisy.
 */
import { fork } from 'node:child_process';
import { cpSync, mkdtempSync, utimesSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { benchArgs } from './args';
import { percentile } from '../main/control/stats';

const args = benchArgs();
const here = fileURLToPath(import.meta.url);

interface ChildStats {
  ticks: number;
  periods: number[];
  tickP50Ms: number;
  tickP99Ms: number;
  lateP99Ms: number;
  rss: number;
  maxRss: number;
  clients: number;
  /** Bundle validations run so far (the catalog's count; -1 where it has none). */
  validations: number;
}

// ---------------------------------------------------------------- child: the host under test
if (process.argv.includes('--child')) {
  const { ConsoleSession } = await import('../main/services/session');
  const { startHost } = await import('../main/host/server');
  const rateHz = Number(args.arg('rate', '30'));
  const bundlesDir = args.arg('bundles', '');
  const rendererDir = mkdtempSync(join(tmpdir(), 'reins-bench-host-'));
  (await import('node:fs')).writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Reins</title>');
  const session = new ConsoleSession({ rateHz, seed: 5, homeDir: join(rendererDir, 'home'), ...(bundlesDir ? { bundlesDir } : {}) });
  await session.start();
  await session.startPolicy('expert');
  const host = await startHost({ host: '127.0.0.1', port: 0, rendererDir, api: session.api, fileRoots: () => session.fileRoots() });
  let periods: number[] = [];
  let last = -1;
  let ticks0 = session.loop.stats().ticks;
  let maxRss = process.memoryUsage().rss;
  setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 100).unref();
  session.loop.addSink({
    onStep: (s) => {
      if (last >= 0) periods.push(s.timeMs - last);
      last = s.timeMs;
    },
  });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'mark') {
      periods = [];
      ticks0 = session.loop.stats().ticks;
      session.loop.resetStats();
      maxRss = process.memoryUsage().rss;
      process.send!({ type: 'marked' });
    } else if (m.type === 'stats') {
      const st = session.loop.stats();
      const out: ChildStats = { ticks: st.ticks - ticks0, periods, tickP50Ms: st.tick.p50Ms, tickP99Ms: st.tick.p99Ms, lateP99Ms: st.lateness.p99Ms, rss: process.memoryUsage().rss, maxRss, clients: host.clientCount(), validations: session.catalog.validations };
      process.send!({ type: 'stats', stats: out });
    } else if (m.type === 'stop') {
      void host.close().then(() => session.stop()).then(() => process.exit(0));
    }
  });
  process.send!({ type: 'ready', url: host.url });
} else {
  await main();
}

// ---------------------------------------------------------------- parent: the clients
async function main(): Promise<void> {
  const SECONDS = Number(args.arg('seconds', '6'));
  const N = Number(args.arg('clients', '20'));
  const RATE = Number(args.arg('rate', '30'));
  // A private copy of the shipped bundles, so phase e can touch their files.
  const bundles = mkdtempSync(join(tmpdir(), 'reins-bench-bundles-'));
  cpSync(fileURLToPath(new URL('../models/bundles', import.meta.url)), bundles, { recursive: true });
  const child = fork(here, ['--child', '--rate', String(RATE), '--bundles', bundles], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const waitMsg = <T,>(type: string): Promise<T> =>
    new Promise((res) => {
      const on = (m: { type: string }) => {
        if (m.type !== type) return;
        child.off('message', on);
        res(m as T);
      };
      child.on('message', on);
    });
  const { url } = await waitMsg<{ url: string }>('ready');
  const wsUrl = url.replace(/^http/, 'ws').replace(/\/(\?.*)?$/, '/ws');
  const mark = async () => {
    child.send({ type: 'mark' });
    await waitMsg('marked');
  };
  const stats = async (): Promise<ChildStats> => {
    child.send({ type: 'stats' });
    return (await waitMsg<{ stats: ChildStats }>('stats')).stats;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  interface Row {
    phase: string;
    part: 'before' | 'during' | 'after';
    seconds: number;
    ticks: number;
    rateHz: number;
    periodP50Ms: number;
    periodP99Ms: number;
    tickP50Ms: number;
    tickP99Ms: number;
    rssMB: number;
    maxRssMB: number;
    sent: number;
    answered: number;
    refused: Record<string, number>;
    closed: number;
    validations: number;
  }
  const rows: Row[] = [];
  const measure = async (phase: string, part: Row['part'], seconds: number, load?: () => { stop(): Promise<{ sent: number; answered: number; refused: Record<string, number>; closed: number }> }) => {
    await mark();
    const t0 = performance.now();
    const l = load?.();
    await sleep(seconds * 1000);
    const s = await stats();
    const el = (performance.now() - t0) / 1000;
    const c = l ? await l.stop() : { sent: 0, answered: 0, refused: {}, closed: 0 };
    rows.push({
      phase,
      part,
      seconds: Number(el.toFixed(2)),
      ticks: s.ticks,
      rateHz: Number((s.ticks / el).toFixed(2)),
      periodP50Ms: Number(percentile(s.periods, 50).toFixed(2)),
      periodP99Ms: Number(percentile(s.periods, 99).toFixed(2)),
      tickP50Ms: Number(s.tickP50Ms.toFixed(3)),
      tickP99Ms: Number(s.tickP99Ms.toFixed(3)),
      rssMB: Number((s.rss / 2 ** 20).toFixed(1)),
      maxRssMB: Number((s.maxRss / 2 ** 20).toFixed(1)),
      validations: s.validations,
      ...c,
    });
  };

  /** N clients, each running `body` until stopped; counts what was sent and answered. */
  const clients = (body: (ws: WebSocket, counters: { sent: number }, alive: () => boolean) => void, opts: { read?: boolean } = {}) => () => {
    let running = true;
    const counters = { sent: 0 };
    let answered = 0;
    let closed = 0;
    const refused: Record<string, number> = {};
    const socks: WebSocket[] = [];
    for (let i = 0; i < N; i++) {
      const ws = new WebSocket(wsUrl);
      socks.push(ws);
      ws.on('error', () => {});
      ws.on('close', () => closed++);
      ws.on('open', () => {
        if (opts.read === false) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
        body(ws, counters, () => running && ws.readyState === ws.OPEN);
      });
      ws.on('message', (d, bin) => {
        if (bin) return;
        const m = JSON.parse(d.toString()) as { t: string; ok?: boolean; error?: { code: string } };
        if (m.t === 'event') return;
        answered++;
        if (m.error) refused[m.error.code] = (refused[m.error.code] ?? 0) + 1;
      });
    }
    return {
      stop: async () => {
        running = false;
        for (const s of socks) s.terminate();
        return { sent: counters.sent, answered, refused, closed };
      },
    };
  };

  const flood = clients((ws, c, alive) => {
    const msg = JSON.stringify({ t: 'command', name: 'jog', args: { joint: 'wrist_roll', delta: 0 } });
    const burst = () => {
      if (!alive()) return;
      for (let i = 0; i < 50; i++) ws.send(msg);
      c.sent += 50;
      setTimeout(burst, 10); // 5,000 messages/s per client
    };
    burst();
  });
  const large = clients((ws, c, alive) => {
    const msg = JSON.stringify({ t: 'command', name: 'jog', args: { joint: 'wrist_roll', delta: 0, pad: 'p'.repeat(60_000) } });
    const tick = () => {
      if (!alive()) return;
      ws.send(msg);
      c.sent++;
      setTimeout(tick, 70); // ~14 messages/s, 860 KB/s per client: under the 300/s and 1 MiB/s limits
    };
    tick();
  });
  const slow = clients(
    (ws, c, alive) => {
      const tick = () => {
        if (!alive()) return;
        ws.send(JSON.stringify({ t: 'command', name: 'frameAck', args: { camera: 'front' } }));
        ws.send(JSON.stringify({ t: 'command', name: 'frameAck', args: { camera: 'wrist' } }));
        ws.send(JSON.stringify({ t: 'invoke', id: c.sent, name: 'session.get', args: {} }));
        c.sent += 3;
        setTimeout(tick, 20);
      };
      tick();
    },
    { read: false },
  );
  const expensive = (touch: boolean) =>
    clients((ws, c, alive) => {
      let id = 0;
      const pending = new Set<number>();
      const names = ['policy.list', 'session.get', 'dataset.episodes', 'policy.list'];
      ws.on('message', (d, bin) => {
        if (bin) return;
        const m = JSON.parse(d.toString()) as { t: string; id?: number; error?: { code: string } };
        // A well-behaved client: the next request at once, or after 250 ms when told it is over the rate.
        if (m.t === 'reply' && typeof m.id === 'number' && pending.delete(m.id)) setTimeout(next, m.error?.code === 'rate_limited' ? 250 : 0);
      });
      const next = () => {
        if (!alive()) return;
        const i = id++;
        pending.add(i);
        ws.send(JSON.stringify({ t: 'invoke', id: i, name: names[i % names.length], args: {} }));
        c.sent++;
      };
      for (let k = 0; k < 4; k++) next(); // four requests in flight per client
      if (touch) {
        const t = setInterval(() => {
          if (!alive()) return clearInterval(t);
          const now = new Date();
          utimesSync(join(bundles, 'fixture', 'manifest.json'), now, now);
        }, 200);
      }
    });

  await sleep(2000); // warm-up: cameras, the expert, the first policy.list
  await measure('idle', 'before', SECONDS);
  const phases: [string, ReturnType<typeof clients>][] = [
    ['a flood', flood],
    ['b large', large],
    ['c slow readers', slow],
    ['d expensive', expensive(false)],
    ['e expensive+rebundle', expensive(true)],
  ];
  for (const [name, load] of phases) {
    await measure(name, 'during', SECONDS, load);
    await measure(name, 'after', Math.max(2, SECONDS / 2));
  }
  child.send({ type: 'stop' });

  const base = rows[0]!;
  console.log(`Host under load: ${N} clients per phase, ${SECONDS} s per phase, loop ${RATE} Hz (sim SO-101, 2 cameras 320x240, scripted expert), ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log('phase                | part   | rate Hz (% idle) | period p50/p99 ms | tick p50/p99 ms | RSS end/max MB | sent   | answered | refused / closed | bundle validations');
  for (const r of rows) {
    const pct = ((100 * r.rateHz) / base.rateHz).toFixed(0);
    console.log(
      `${r.phase.padEnd(20)} | ${r.part.padEnd(6)} | ${r.rateHz.toFixed(1).padStart(6)} (${pct.padStart(3)} %)  | ${r.periodP50Ms.toFixed(1).padStart(6)} / ${r.periodP99Ms.toFixed(1).padStart(6)} | ${r.tickP50Ms.toFixed(2)} / ${r.tickP99Ms.toFixed(2)} | ${r.rssMB.toFixed(0).padStart(5)} / ${r.maxRssMB.toFixed(0).padStart(5)} | ${String(r.sent).padStart(6)} | ${String(r.answered).padStart(8)} | ${JSON.stringify(r.refused)} / ${r.closed} | ${r.validations}`,
    );
  }
  const during = rows.filter((r) => r.part === 'during');
  const minPct = Math.min(...during.map((r) => r.rateHz / base.rateHz));
  console.log(`lowest loop rate during a phase: ${(100 * minPct).toFixed(0)} % of idle (issue 12 asks >= 90 %). Shared machine: figures are noisy.`);
  console.log(JSON.stringify({ bench: 'host', clients: N, seconds: SECONDS, rateHz: RATE, baselineRateHz: base.rateHz, minRateFractionDuring: Number(minPct.toFixed(3)), rows }));
}
