/**
 * bench:bus — a 6-servo control cycle (SYNC_WRITE goals + SYNC_READ present positions) over a
 * real pty (socat) against the servo emulator running in a child process, for Feetech STS
 * (SO-101) and Dynamixel 2.0 (Koch), with the driver's default settings (numRetry 2, reply
 * timeout = wire time + 3 ms, doubling per retry).
 *
 * Scenarios: free-running (replies as fast as the pty allows); replies held to 1 Mbaud wire
 * time; and, held to wire time, 1 % of replies dropped / 1 % corrupted. Every cycle writes
 * new goals and the emulator moves instantly, so a read that doesn't return this cycle's goals
 * is a stale read (must be 0). The 1 Mbaud wire-time limit is computed from the packets.
 * 'floor' / 'floorWire' are the same exchange with no driver at all (raw bytes): what this pty,
 * emulator and machine allow, free-running and held to wire time, to read the driver against.
 * Prints a table; the last line is one JSON object with the figures.
 */
import { fork, type ChildProcess } from 'node:child_process';
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
  name: 'free' | 'wire' | 'drop1' | 'corrupt1';
  hold: boolean;
  dropRate: number;
  corruptRate: number;
}
const SCENARIOS: Scenario[] = [
  { name: 'free', hold: false, dropRate: 0, corruptRate: 0 },
  { name: 'wire', hold: true, dropRate: 0, corruptRate: 0 },
  { name: 'drop1', hold: true, dropRate: 0.01, corruptRate: 0 },
  { name: 'corrupt1', hold: true, dropRate: 0, corruptRate: 0.01 },
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
  const transport = new SerialTransport({ path: host });
  const bus = (protocol === 'feetech' ? new FeetechMotorBus(transport) : new DynamixelMotorBus(transport)) as unknown as ServoBus<string>;
  await bus.open();
  for (const id of IDS) await bus.write('Torque_Enable', id, 1, { numRetry: 5 });
  const out: Record<string, Result> = {};
  let cycle = 0;
  for (const sc of SCENARIOS) {
    await ask(child, { type: 'faults', dropRate: sc.dropRate, corruptRate: sc.corruptRate, holdToWireTime: sc.hold, resetStats: true }, 'ok');
    // warm-up
    for (let i = 0; i < 200; i++) {
      await bus.syncWrite('Goal_Position', IDS.map((id) => ({ id, value: 1500 + id })));
      await bus.syncRead('Present_Position', IDS).catch(() => undefined);
    }
    await ask(child, { type: 'faults', resetStats: true }, 'ok');
    const retries0 = bus.stats.retries;
    const times: number[] = [];
    let stale = 0;
    let failed = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      cycle++;
      const base = 1000 + (cycle % 997);
      const c0 = performance.now();
      await bus.syncWrite('Goal_Position', IDS.map((id) => ({ id, value: base + id })));
      try {
        const r = await bus.syncRead('Present_Position', IDS);
        if (r.values.some((v, i) => v !== base + IDS[i]!)) stale++;
      } catch {
        failed++;
      }
      times.push(performance.now() - c0);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const stats = (await ask(child, { type: 'stats' }, 'stats'))['stats'] as Result['emulator'];
    const sorted = [...times].sort((a, b) => a - b);
    out[sc.name] = {
      cycles: times.length,
      cyclesPerS: times.length / elapsed,
      p50Ms: pct(sorted, 0.5),
      p99Ms: pct(sorted, 0.99),
      maxMs: sorted[sorted.length - 1]!,
      stale,
      failedCycles: failed,
      retries: bus.stats.retries - retries0,
      emulator: { dropped: stats.dropped, corrupted: stats.corrupted, replies: stats.replies },
    };
  }
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
    emulator: { dropped: 0, corrupted: 0, replies: 0 },
  };
  }
  await bus.close();

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
  rows.push('protocol   scenario   cycles/s  p50 ms  p99 ms  max ms  stale  failed  retries  emu dropped/corrupted   wire limit (1 Mbaud)');
  for (const protocol of ['feetech', 'dynamixel'] as const) {
    const wl = wireLimit(protocol);
    const r = await runProtocol(protocol);
    results[protocol] = { wireLimit: { bytesPerCycle: wl.bytes, cycleUs: wl.us, hz: Math.round(wl.hz) }, ...r };
    const lead = (r as Record<string, unknown>)['leaderTeleop'] as { achievedHz: number; errors: number };
    delete (r as Record<string, unknown>)['leaderTeleop'];
    (results[protocol] as Record<string, unknown>)['leaderTeleop'] = lead;
    rows.push(`${protocol.padEnd(10)} leader teleop (target 200 Hz, wire-time replies): ${f(lead.achievedHz)} Hz, ${lead.errors} errors`);
    for (const [name, x] of Object.entries(r)) {
      rows.push(
        `${protocol.padEnd(10)} ${name.padEnd(10)} ${f(x.cyclesPerS).padStart(8)} ${f(x.p50Ms, 3).padStart(7)} ${f(x.p99Ms, 3).padStart(7)} ${f(x.maxMs, 2).padStart(7)} ${String(x.stale).padStart(6)} ${String(x.failedCycles).padStart(7)} ${String(x.retries).padStart(8)}  ${`${x.emulator.dropped}/${x.emulator.corrupted}`.padStart(20)}   ${wl.bytes} B = ${wl.us} µs → ${f(wl.hz)} Hz`,
      );
    }
  }
  console.log(`bench:bus — 6 servos, SYNC_WRITE + SYNC_READ per cycle, ${SECONDS} s per scenario, pty + emulator in a child process`);
  for (const r of rows) console.log(r);
  console.log(JSON.stringify({ bench: 'bus', secondsPerScenario: SECONDS, ...results }));
}

await main();
