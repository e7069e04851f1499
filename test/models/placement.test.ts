/**
 * Where the inference child runs: CPU affinity through taskset (by default the last CPU) and
 * SCHED_IDLE through chrt on request, from the child's first instruction (every thread), checked in /proc against the kernel's own view;
 * a missing tool or platform is a logged note, never a silent drop; a bad CPU list is a typed error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { defaultCpus, PlacementError, planLaunch, probeTools, type Tools } from '../../models/runtime/placement';
import { PolicyLoadError, PolicyProcess } from '../../models/runtime/PolicyProcess';
import { rng } from './fakeLM';
import { randomObservation } from './observations';

const FIXTURE = 'models/bundles/fixture';
const SETTINGS = { speculative: true, relaxedR: 0, planCache: true, reasoning: true };
const LINUX: Tools = { platform: 'linux', chrt: '/usr/bin/chrt', taskset: '/usr/bin/taskset', cpuCount: 2 };

test('planLaunch: by default nice 19 pinned to the last CPU(s) through taskset, node last', () => {
  const p = planLaunch('/n/node', ['--import', 'tsx', 'child.ts'], {}, LINUX);
  assert.deepEqual([p.command, ...p.args], ['/usr/bin/taskset', '-c', '1', '/n/node', '--import', 'tsx', 'child.ts']);
  assert.deepEqual(p.notes, []);
  assert.equal(p.effective, 'nice 19, CPUs 1');
  // 2 intra-op threads on 4 CPUs: the last 2; as many threads as CPUs: no pin
  assert.deepEqual(defaultCpus({ cpuCount: 4 }, 2), [2, 3]);
  assert.equal(defaultCpus({ cpuCount: 2 }, 2), undefined);
  assert.equal(defaultCpus({ cpuCount: 1 }), undefined);
  const q = planLaunch('/n/node', ['c.ts'], { sched: 'idle', cpus: [0] }, LINUX);
  assert.deepEqual([q.command, ...q.args], ['/usr/bin/taskset', '-c', '0', '/usr/bin/chrt', '--idle', '0', '/n/node', 'c.ts']);
  assert.equal(q.effective, 'SCHED_IDLE, CPUs 0');
  const r = planLaunch('/n/node', ['c.ts'], { niceness: 10, cpus: 'any' }, LINUX);
  assert.deepEqual([r.command, ...r.args], ['/n/node', 'c.ts']);
  assert.equal(r.effective, 'nice 10');
});

test('planLaunch: a tool or platform missing is a note saying what the child runs with instead', () => {
  const p = planLaunch('/n/node', ['c.ts'], { sched: 'idle', cpus: [0] }, { platform: 'linux', cpuCount: 2 });
  assert.deepEqual([p.command, ...p.args], ['/n/node', 'c.ts']);
  assert.equal(p.notes.length, 2);
  assert.match(p.notes.join('\n'), /taskset \(util-linux\) not found/);
  assert.match(p.notes.join('\n'), /SCHED_IDLE not applied: chrt .* niceness 19/);
  assert.equal(p.effective, 'nice 19');
  const d = planLaunch('/n/node', ['c.ts'], {}, { platform: 'darwin', cpuCount: 8, chrt: 'chrt' });
  assert.match(d.notes[0]!, /CPU affinity \[7\] not applied: only supported on Linux \(this is darwin\)/);
});

test('planLaunch: an affinity list naming CPUs the machine lacks is a typed error', () => {
  assert.throws(() => planLaunch('n', [], { cpus: [2] }, LINUX), PlacementError);
  assert.throws(() => planLaunch('n', [], { cpus: [] }, LINUX), /non-empty list of this machine's CPUs \(0\.\.1\)/);
});

/** Scheduling policy (field 41 of /proc/PID/task/TID/stat: 0 SCHED_OTHER, 5 SCHED_IDLE) and CPU list of every thread. */
function threadsOf(pid: number): { policy: number; cpus: string }[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 on
    const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    return { policy: Number(fields[41 - 3]), cpus: /Cpus_allowed_list:\s*(\S+)/.exec(status)![1]! };
  });
}

const tools = probeTools();
const linuxWithTools = process.platform === 'linux' && tools.chrt !== undefined && tools.taskset !== undefined;

test('by default the policy child runs pinned to the last CPU, every thread (Linux, taskset)', { skip: (!linuxWithTools || cpus().length < 2) && 'needs Linux with taskset and 2+ CPUs' }, async () => {
  const notes: string[] = [];
  const proc = await PolicyProcess.start(FIXTURE, { log: (m) => notes.push(m) });
  const last = String(cpus().length - 1);
  try {
    assert.equal(proc.placement, `nice 19, CPUs ${last}`);
    assert.deepEqual(notes, []);
    assert.ok((await proc.infer(randomObservation(rng(1)), SETTINGS)).valid); // ORT's threads exist by now
    const th = threadsOf(proc.pid!);
    assert.ok(th.length > 3, `${th.length} threads`);
    assert.deepEqual(th.filter((t) => t.cpus !== last), [], `every thread on CPU ${last}`);
  } finally {
    await proc.dispose();
  }
});

test('SCHED_IDLE on request, every thread (Linux, chrt)', { skip: !linuxWithTools && 'needs Linux with chrt and taskset' }, async () => {
  const proc = await PolicyProcess.start(FIXTURE, { sched: 'idle', cpus: 'any' });
  try {
    assert.equal(proc.placement, 'SCHED_IDLE');
    assert.ok((await proc.infer(randomObservation(rng(1)), SETTINGS)).valid);
    const th = threadsOf(proc.pid!);
    assert.deepEqual(th.filter((t) => t.policy !== 5), [], 'every thread SCHED_IDLE');
  } finally {
    await proc.dispose();
  }
});

test('the policy child pinned to a CPU, at SCHED_OTHER when asked (Linux, taskset)', { skip: !linuxWithTools && 'needs Linux with chrt and taskset' }, async () => {
  const cpu = cpus().length - 1;
  const proc = await PolicyProcess.start(FIXTURE, { sched: 'normal', cpus: [cpu], session: { intraOpNumThreads: 2 } });
  try {
    assert.equal(proc.placement, `nice 19, CPUs ${cpu}`);
    assert.ok((await proc.infer(randomObservation(rng(2)), SETTINGS)).valid);
    const th = threadsOf(proc.pid!);
    assert.deepEqual(th.filter((t) => t.cpus !== String(cpu)), [], `every thread on CPU ${cpu}`);
    assert.deepEqual(th.filter((t) => t.policy !== 0), [], 'every thread SCHED_OTHER');
  } finally {
    await proc.dispose();
  }
});

test('without taskset the child still runs, unpinned at nice 19, and the log says so', async () => {
  const notes: string[] = [];
  const proc = await PolicyProcess.start(FIXTURE, { tools: { platform: 'linux', cpuCount: 2 }, log: (m) => notes.push(m) });
  try {
    assert.equal(proc.placement, 'nice 19');
    assert.equal(notes.length, 1);
    assert.match(notes[0]!, /CPU affinity \[1\] not applied: taskset \(util-linux\) not found/);
    assert.ok((await proc.infer(randomObservation(rng(3)), SETTINGS)).valid);
  } finally {
    await proc.dispose();
  }
});

test('a launcher that cannot be started is a typed load error naming the command', async () => {
  await assert.rejects(
    PolicyProcess.start(FIXTURE, { sched: 'idle', tools: { platform: 'linux', cpuCount: 2, chrt: '/nonexistent/chrt' }, log: () => undefined }),
    (e: unknown) => {
      assert.ok(e instanceof PolicyLoadError);
      assert.match(e.message, /could not start \(\/nonexistent\/chrt --idle 0 /);
      return true;
    },
  );
});
