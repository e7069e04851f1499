/**
 * npm run bench:loop [-- --seconds S]
 * Tick work time and lateness (tick start vs its deadline) of the real-time control loop at 30 Hz
 * and 100 Hz: the baseline (a robot that does nothing, no cameras) and the simulated SO-101 with
 * its two cameras (320x240) under the scripted expert, measured in the same run.
 * Prints a table, then one JSON line.
 */
import { ControlLoop } from '../main/control/loop';
import { ConsoleSession } from '../main/services/session';
import type { Robot } from '../drivers/robots/Robot';
import { cpus } from 'node:os';

const secArg = process.argv.indexOf('--seconds');
const SECONDS = secArg > 0 ? Number(process.argv[secArg + 1]) : 10;

const clock = { nowMs: () => performance.now() };

class NullRobot implements Robot {
  readonly type = 'null';
  readonly id = 'null';
  readonly isConnected = true;
  readonly joints = Array.from({ length: 6 }, (_, i) => ({ name: `j${i}`, min: -100, max: 100, unit: 'deg' as const }));
  async connect() {}
  async readState() {
    return { positions: [0, 0, 0, 0, 0, 0], timeMs: performance.now() };
  }
  async writeGoal(g: readonly number[]) {
    return [...g];
  }
  async setTorque() {}
  async disconnect() {}
}

interface Row {
  config: string;
  rateHz: number;
  ticks: number;
  achievedHz: number;
  tickP50Ms: number;
  tickP99Ms: number;
  tickMaxMs: number;
  lateP50Ms: number;
  lateP99Ms: number;
  lateMaxMs: number;
  overruns: number;
}

async function measure(config: string, loop: ControlLoop, rateHz: number): Promise<Row> {
  loop.start();
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  loop.resetStats();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  loop.stop();
  const s = loop.stats();
  return {
    config,
    rateHz,
    ticks: s.ticks,
    achievedHz: Number(s.achievedHz.toFixed(2)),
    tickP50Ms: s.tick.p50Ms,
    tickP99Ms: s.tick.p99Ms,
    tickMaxMs: s.tick.maxMs,
    lateP50Ms: s.lateness.p50Ms,
    lateP99Ms: s.lateness.p99Ms,
    lateMaxMs: s.lateness.maxMs,
    overruns: s.overruns,
  };
}

const rows: Row[] = [];
for (const rateHz of [30, 100]) {
  rows.push(await measure('baseline (null robot)', new ControlLoop({ robot: new NullRobot(), cameras: [], clock, rateHz }), rateHz));
  const session = new ConsoleSession({ rateHz, seed: 7 });
  await session.robot.connect();
  for (const c of session.cameras) await c.connect();
  await session.startPolicy('expert');
  rows.push(await measure('sim + 2 cameras + expert', session.loop, rateHz));
  await session.stop();
}

const f = (n: number) => n.toFixed(3);
console.log(`Control loop, ${SECONDS} s per row, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
console.log('config                      | Hz  | achieved | tick p50 / p99 / max ms | late p50 / p99 / max ms | overruns');
for (const r of rows) {
  console.log(`${r.config.padEnd(27)} | ${String(r.rateHz).padEnd(3)} | ${r.achievedHz.toFixed(1).padStart(8)} | ${f(r.tickP50Ms)} / ${f(r.tickP99Ms)} / ${f(r.tickMaxMs)} | ${f(r.lateP50Ms)} / ${f(r.lateP99Ms)} / ${f(r.lateMaxMs)} | ${r.overruns}`);
}
console.log(JSON.stringify({ bench: 'loop', seconds: SECONDS, rows }));
