/**
 * bench:bus — a 6-servo control cycle (SYNC_WRITE goals + SYNC_READ present positions) over a
 * real pty (socat) against the servo emulator running in a child process, for Feetech STS
 * (SO-101) and Dynamixel 2.0 (Koch), with the driver's default settings (numRetry 2, reply
 * timeout = wire time + an adaptive margin, doubling per retry; the fd transport).
 *
 * Scenarios: free-running (replies as fast as the pty allows), also through node-serialport's
 * stream ('free-stream', the transport before issue 15); replies held to 1 Mbaud wire time;
 * held to wire time with 1 % of replies dropped / 1 % corrupted; held to wire time behind a USB
 * adapter adding 2, 8 or 16 ms (FTDI latency timer); held to wire time while another process
 * keeps a core busy ('wire-load'). Every cycle writes new goals and the emulator moves
 * instantly, so a read that doesn't return this cycle's goals is a stale read (must be 0).
 * 'retry max' is the slowest cycle that needed a retry (what a dropped reply costs).
 * With BENCH_PEER_CMD set (a command taking `port protocol seconds` and printing one JSON line
 * of the same figures), the peer — e.g. LeRobot's own bus with the vendor SDKs, run from
 * outside the project — drives the same emulator in the same run, scenarios 'lerobot-*'.
 * 'cpu µs' is this process's CPU time per cycle. The 1 Mbaud wire-time limit is computed from
 * the packets.
 * 'floor' / 'floorWire' are the same exchange with no driver at all (raw bytes): what this pty,
 * emulator and machine allow, free-running and held to wire time, to read the driver against.
 * Prints a table; the last line is one JSON object with the figures.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { SerialTransport } from '../drivers/transport/SerialTransport';
import { FeetechMotorBus } from '../drivers/motors/feetech/bus';
import { DynamixelMotorBus } from '../drivers/motors/dynamixel/bus';
import type { ServoBus } from '../drivers/motors/ServoBus';
import * as ft from '../drivers/motors/feetech/codec';
import * as dx from '../drivers/motors/dynamixel/codec';
import { openPtyPair, socatAvailable } from '../test/fakes/servo-emulator/pty';
import { createSoLeader } from '../drivers/robots/so101/so101';
import { createKochLeader } from '../drivers/robots/koch/koch';
import { LeaderTeleop } from '../drivers/teleop/leader/LeaderTeleop';

const IDS = [1, 2, 3, 4, 5, 6];
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const here = dirname(fileURLToPath(import.meta.url));

type Protocol = 'feetech' | 'dynamixel';

interface Scenario {
  name: string;
  hold: boolean;
  dropRate: number;
  corruptRate: number;
  latencyMs?: number;
  backend?: 'fd' | 'stream';
  load?: boolean;
}
const SCENARIOS: Scenario[] = [
  { name: 'free', hold: false, dropRate: 0, corruptRate: 0 },
  { name: 'free-stream', hold: false, dropRate: 0, corruptRate: 0, backend: 'stream' },
  { name: 'wire', hold: true, dropRate: 0, corruptRate: 0 },
  { name: 'drop1', hold: true, dropRate: 0.01, corruptRate: 0 },
  { name: 'corrupt1', hold: true, dropRate: 0, corruptRate: 0.01 },
  { name: 'lat2', hold: true, dropRate: 0, corruptRate: 0, latencyMs: 2 },
  { name: 'lat8', hold: true, dropRate: 0, corruptRate: 0, latencyMs: 8 },
  { name: 'lat16', hold: true, dropRate: 0, corruptRate: 0, latencyMs: 16 },
  { name: 'lat8-drop1', hold: true, dropRate: 0.01, corruptRate: 0, latencyMs: 8 },
  { name: 'wire-load', hold: true, dropRate: 0, corruptRate: 0, load: true },
];

interface Result {
  cycles: number;
  cyclesPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  stale: number;
  failedCycles: number;
  retries: number;
  /** Slowest cycle that needed a retry (ms), or 0. */
  retryMaxMs: number;
  /** CPU time of this process per cycle (µs). */
  cpuUsPerCycle: number;
  emulator: { dropped: number; corrupted: number; replies: number };
}

function wireLimit(protocol: Protocol): { bytes: number; us: number; hz: number } {
  const goals = IDS.map((id) => ({ id, data: protocol === 'feetech' ? [0, 8] : [0, 8, 0, 0] }));
  const bytes =
    protocol === 'feetech'
      ? ft.encodeSyncWrite(42, 2, goals).length + ft.encodeSyncRead(56, 2, IDS).length + IDS.length * ft.encodeStatus(1, 0, [0, 0]).length
      : dx.encodeSyncWrite(116, 4, goals).length + dx.encodeSyncRead(132, 4, IDS).length + IDS.length * dx.encodeStatus(1, 0, [0, 0, 0, 0]).length;
  const us = bytes * 10; // 8N1 at 1,000,000 baud: 10 µs a byte, return delay 0
  return { bytes, us, hz: 1e6 / us };
}

function ask(child: ChildProcess, msg: object, want: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (m['type'] === want) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function runProtocol(protocol: Protocol): Promise<Record<string, Result>> {
  const pty = await openPtyPair();
  // BENCH_EMULATOR_CHILD: a prebuilt (bundled) emulator child, for machines without tsx.
  const prebuilt = process.env['BENCH_EMULATOR_CHILD'];
  const child = prebuilt
    ? fork(prebuilt, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    : fork(join(here, '../test/fakes/servo-emulator/child.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await ask(
    child,
    { type: 'start', opts: { path: pty.device, protocol, servos: IDS.map((id) => ({ id, model: protocol === 'feetech' ? 'sts3215' : 'xl330-m077', position: 2000 })), speedTicksPerS: 0, seed: 7 } },
    'started',
  );
  try {
    return await runCycles(protocol, pty.host, child);
  } finally {
    if (child.connected) await ask(child, { type: 'stop' }, 'stopped').catch(() => undefined);
    child.kill();
    await pty.close();
  }
}

async function runCycles(protocol: Protocol, host: string, child: ChildProcess): Promise<Record<string, Result>> {
  const out: Record<string, Result> = {};
  let cycle = 0;
  let transport: SerialTransport | undefined;
  let bus: ServoBus<string> | undefined;
  for (const sc of SCENARIOS) {
    const backend = sc.backend ?? 'fd';
    if (!transport || transport.backend !== backend) {
      await bus?.close();
      transport = new SerialTransport({ path: host, backend });
      bus = (protocol === 'feetech' ? new FeetechMotorBus(transport) : new DynamixelMotorBus(transport)) as unknown as ServoBus<string>;
      await bus.open();
      for (const id of IDS) await bus.write('Torque_Enable', id, 1, { numRetry: 5 });
    }
    const b = bus!;
    await ask(child, { type: 'faults', dropRate: sc.dropRate, corruptRate: sc.corruptRate, holdToWireTime: sc.hold, adapter: { latencyMs: sc.latencyMs ?? 0 }, resetStats: true }, 'ok');
    const burner = sc.load ? fork(join(here, 'busy.mjs'), [], { stdio: 'ignore' }) : undefined;
    // warm-up (the margin adapts to the adapter)
    const warm = sc.latencyMs ? 40 : 200;
    for (let i = 0; i < warm; i++) {
      await b.syncWrite('Goal_Position', IDS.map((id) => ({ id, value: 1500 + id })));
      await b.syncRead('Present_Position', IDS).catch(() => undefined);
    }
    await ask(child, { type: 'faults', resetStats: true }, 'ok');
    const retries0 = b.stats.retries;
    const times: number[] = [];
    let stale = 0;
    let failed = 0;
    let retryMax = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      cycle++;
      const base = 1000 + (cycle % 997);
      const r0 = b.stats.retries;
      const c0 = performance.now();
      await b.syncWrite('Goal_Position', IDS.map((id) => ({ id, value: base + id })));
      try {
        const r = await b.syncRead('Present_Position', IDS);
        if (r.values.some((v, i) => v !== base + IDS[i]!)) stale++;
      } catch {
        failed++;
      }
      const dt = performance.now() - c0;
      times.push(dt);
      if (b.stats.retries > r0) retryMax = Math.max(retryMax, dt);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    burner?.kill();
    const stats = (await ask(child, { type: 'stats' }, 'stats'))['stats'] as Result['emulator'];
    const sorted = [...times].sort((x, y) => x - y);
    out[sc.name] = {
      cycles: times.length,
      cyclesPerS: times.length / elapsed,
      p50Ms: pct(sorted, 0.5),
      p99Ms: pct(sorted, 0.99),
      maxMs: sorted[sorted.length - 1]!,
      stale,
      failedCycles: failed,
      retries: b.stats.retries - retries0,
      retryMaxMs: retryMax,
      cpuUsPerCycle: (cpu.user + cpu.system) / times.length,
      emulator: { dropped: stats.dropped, corrupted: stats.corrupted, replies: stats.replies },
    };
  }
  await ask(child, { type: 'faults', adapter: { latencyMs: 0 } }, 'ok');
  await bus?.close();
  transport = new SerialTransport({ path: host });
  await transport.open();
  // Floor of this pty + emulator: the same bytes with no driver (write both packets, wait for
  // the replies' byte count), replies as fast as the pty allows, then held to wire time.
  for (const hold of [false, true]) {
  await ask(child, { type: 'faults', dropRate: 0, corruptRate: 0, holdToWireTime: hold, resetStats: true }, 'ok');
  const goalsBytes = IDS.map((id) => ({ id, data: protocol === 'feetech' ? [0xe8, 0x03] : [0xe8, 0x03, 0, 0] }));
  const req = protocol === 'feetech' ? [ft.encodeSyncWrite(42, 2, goalsBytes), ft.encodeSyncRead(56, 2, IDS)] : [dx.encodeSyncWrite(116, 4, goalsBytes), dx.encodeSyncRead(132, 4, IDS)];
  const replyBytes = IDS.length * (protocol === 'feetech' ? 8 : 15);
  const ftimes: number[] = [];
  const tf = performance.now();
  while (performance.now() - tf < SECONDS * 1000) {
    const c0 = performance.now();
    transport.discardInput();
    await transport.write(req[0]!);
    await transport.write(req[1]!);
    await transport.read(replyBytes, 100).catch(() => undefined);
    ftimes.push(performance.now() - c0);
  }
  const fs = [...ftimes].sort((a, b) => a - b);
  out[hold ? 'floorWire' : 'floor'] = {
    cycles: fs.length,
    cyclesPerS: fs.length / ((performance.now() - tf) / 1000),
    p50Ms: pct(fs, 0.5),
    p99Ms: pct(fs, 0.99),
    maxMs: fs[fs.length - 1]!,
    stale: 0,
    failedCycles: 0,
    retries: 0,
    retryMaxMs: 0,
    cpuUsPerCycle: 0,
    emulator: { dropped: 0, corrupted: 0, replies: 0 },
  };
  }
  await transport.close();

  // The peer (LeRobot's bus), same pty and emulator, same run.
  const peer = process.env['BENCH_PEER_CMD'];
  if (peer) {
    for (const sc of SCENARIOS.filter((x) => ['free', 'wire', 'drop1', 'corrupt1', 'lat8'].includes(x.name))) {
      await ask(child, { type: 'faults', dropRate: sc.dropRate, corruptRate: sc.corruptRate, holdToWireTime: sc.hold, adapter: { latencyMs: sc.latencyMs ?? 0 }, resetStats: true }, 'ok');
      const r = spawnSync(peer, [host, protocol, String(SECONDS)], { encoding: 'utf8', shell: true, timeout: (SECONDS + 120) * 1000 });
      const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
      let x: Partial<Result> | undefined;
      try {
        x = JSON.parse(line) as Partial<Result>;
      } catch {
        console.error(`peer failed (${sc.name}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
        continue;
      }
      const stats = (await ask(child, { type: 'stats' }, 'stats'))['stats'] as Result['emulator'];
      out[`lerobot-${sc.name}`] = { retries: 0, retryMaxMs: 0, cycles: 0, cyclesPerS: 0, p50Ms: 0, p99Ms: 0, maxMs: 0, stale: 0, failedCycles: 0, cpuUsPerCycle: 0, ...x, emulator: { dropped: stats.dropped, corrupted: stats.corrupted, replies: stats.replies } };
    }
    await ask(child, { type: 'faults', dropRate: 0, corruptRate: 0, adapter: { latencyMs: 0 } }, 'ok');
  }

  // Leader arm as a streaming Teleop (200 Hz target), replies held to wire time.
  await ask(child, { type: 'faults', dropRate: 0, corruptRate: 0, holdToWireTime: true, resetStats: true }, 'ok');
  const calibration = Object.fromEntries(
    ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'].map((n, i) => [n, { id: i + 1, drive_mode: 0, homing_offset: 0, range_min: 1000, range_max: 3000 }]),
  );
  const lt = new SerialTransport({ path: host });
  const leader = protocol === 'feetech' ? createSoLeader('so101_leader', { id: 'bench', transport: lt, calibration }) : createKochLeader({ id: 'bench', transport: lt, calibration });
  await leader.connect();
  const teleop = new LeaderTeleop(leader, { rateHz: 200 });
  teleop.start();
  const tt = performance.now();
  await new Promise((r) => setTimeout(r, Math.max(1100, SECONDS * 1000)));
  await teleop.stop();
  const teleopHz = teleop.stats.reads / ((performance.now() - tt) / 1000);
  await leader.disconnect();
  (out as Record<string, unknown>)['leaderTeleop'] = { targetHz: 200, achievedHz: teleopHz, errors: teleop.stats.errors };
  return out;
}

async function main(): Promise<void> {
  if (!socatAvailable()) {
    console.log('socat is not installed: apt-get install socat');
    console.log(JSON.stringify({ skipped: 'socat not installed' }));
    return;
  }
  const results: Record<string, unknown> = {};
  const rows: string[] = [];
  const f = (n: number, d = 0) => n.toFixed(d);
  rows.push('protocol   scenario     cycles/s  p50 ms  p99 ms  max ms  stale  failed  retries  retry max ms  cpu µs  emu dropped/corrupted   wire limit (1 Mbaud)');
  for (const protocol of ['feetech', 'dynamixel'] as const) {
    const wl = wireLimit(protocol);
    const r = await runProtocol(protocol);
    results[protocol] = { wireLimit: { bytesPerCycle: wl.bytes, cycleUs: wl.us, hz: Math.round(wl.hz) }, ...r };
    const lead = (r as Record<string, unknown>)['leaderTeleop'] as { achievedHz: number; errors: number };
    delete (r as Record<string, unknown>)['leaderTeleop'];
    (results[protocol] as Record<string, unknown>)['leaderTeleop'] = lead;
    rows.push(`${protocol.padEnd(10)} leader teleop (target 200 Hz, wire-time replies): ${f(lead.achievedHz)} Hz, ${lead.errors} errors`);
    const ratios: Record<string, number> = {};
    for (const name of ['free', 'wire', 'drop1', 'corrupt1', 'lat8']) {
      const lr = r[`lerobot-${name}`];
      if (lr && r[name]) ratios[name] = r[name]!.cyclesPerS / lr.cyclesPerS;
    }
    if (Object.keys(ratios).length) {
      (results[protocol] as Record<string, unknown>)['vsLerobot'] = ratios;
      rows.push(`${protocol.padEnd(10)} cycles/s vs LeRobot (same run): ${Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(', ')}`);
    }
    const w = r['wire'];
    if (w) rows.push(`${protocol.padEnd(10)} paced (wire-time replies): ${f((100 * w.cyclesPerS) / wl.hz)} % of the 1 Mbaud wire limit, ${f((100 * w.cyclesPerS) / r['floorWire']!.cyclesPerS)} % of the bare-bytes floor`);
    for (const [name, x] of Object.entries(r)) {
      rows.push(
        `${protocol.padEnd(10)} ${name.padEnd(12)} ${f(x.cyclesPerS).padStart(8)} ${f(x.p50Ms, 3).padStart(7)} ${f(x.p99Ms, 3).padStart(7)} ${f(x.maxMs, 2).padStart(7)} ${String(x.stale).padStart(6)} ${String(x.failedCycles).padStart(7)} ${String(x.retries).padStart(8)} ${f(x.retryMaxMs, 2).padStart(13)} ${f(x.cpuUsPerCycle).padStart(7)}  ${`${x.emulator.dropped}/${x.emulator.corrupted}`.padStart(20)}   ${wl.bytes} B = ${wl.us} µs → ${f(wl.hz)} Hz`,
      );
    }
  }
  console.log(`bench:bus — 6 servos, SYNC_WRITE + SYNC_READ per cycle, ${SECONDS} s per scenario, pty + emulator in a child process`);
  for (const r of rows) console.log(r);
  console.log(JSON.stringify({ bench: 'bus', secondsPerScenario: SECONDS, ...results }));
}

await main();
