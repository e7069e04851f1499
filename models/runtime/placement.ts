/**
 * Where and how the inference child runs next to the control loop: its CPU affinity (`taskset
 * -c`; by default the last CPU(s), leaving CPU 0 to the loop), its niceness (19), and optionally
 * its scheduling class (Linux SCHED_IDLE through util-linux `chrt --idle 0`). The child is started *through* the tools (`taskset -c L chrt --idle 0 node child.ts`),
 * so every thread it ever makes (V8's, libuv's, ONNX Runtime's intra-op pool) inherits the class
 * and the CPU set from its first instruction; nothing is changed on a running process.
 *
 * Pure: `planLaunch` takes the tools found (probed once by `probeTools`) and returns the command
 * line and the notes to log. A placement the machine cannot honour (not Linux, tool absent) is
 * never silently dropped: it becomes a note naming what the child runs with instead.
 */
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

export type SchedClass = 'idle' | 'normal';

export interface ChildPlacement {
  /**
   * 'normal' (default): SCHED_OTHER at `niceness`. 'idle': SCHED_IDLE — the child gets a CPU only
   * when no normal task wants it. Measured (models/README.md "Runtime variants"): SCHED_IDLE did
   * not lower the loop's lateness and, pinned, raised it (a CPU running only SCHED_IDLE work counts
   * as idle, so the loop's wake-ups are placed on the child's CPU); pinning is what helps.
   */
  sched?: SchedClass;
  /**
   * CPUs the child may run on (taskset -c). Default (`defaultCpus`): on Linux with 2+ CPUs, the last
   * `threads` CPUs (the loop keeps CPU 0 to itself): a 200 Hz loop's lateness p99 with inference
   * running went from 3.2 ms to 0.003–0.37 ms. 'any': no affinity.
   */
  cpus?: readonly number[] | 'any';
  /** Niceness 0..19 (setpriority after start); default 19. Ignored by the kernel under SCHED_IDLE. */
  niceness?: number;
}

export interface Tools {
  platform: NodeJS.Platform;
  /** Path of a chrt that can start a SCHED_IDLE process, or undefined. */
  chrt?: string;
  /** Path of a working taskset, or undefined. */
  taskset?: string;
  /** CPUs this machine has (to reject an affinity list naming absent CPUs). */
  cpuCount: number;
}

export interface LaunchPlan {
  /** Program to exec: a tool wrapping node, or node itself. */
  command: string;
  args: string[];
  /** What the child really runs with, when it differs from what was asked (to be logged). */
  notes: string[];
  /** What the child runs with, for the log and benches: e.g. "SCHED_IDLE, CPUs 1". */
  effective: string;
}

export class PlacementError extends Error {
  readonly code = 'POLICY_PLACEMENT_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'PlacementError';
  }
}

/** The command line that starts `node [nodeArgs] entry` with the asked placement, given the tools found. */
export function planLaunch(node: string, nodeArgs: readonly string[], placement: ChildPlacement, tools: Tools, threads = 1): LaunchPlan {
  const sched = placement.sched ?? 'normal';
  const notes: string[] = [];
  const prefix: string[] = [];
  const eff: string[] = [];
  const cpuList = placement.cpus === 'any' ? undefined : placement.cpus ?? defaultCpus(tools, threads);
  if (cpuList !== undefined) {
    const bad = cpuList.filter((c) => !Number.isInteger(c) || c < 0 || c >= tools.cpuCount);
    if (cpuList.length === 0 || bad.length > 0) {
      throw new PlacementError(
        `policy CPU affinity [${cpuList.join(', ')}] is not a non-empty list of this machine's CPUs (0..${tools.cpuCount - 1}); fix the cpus setting or leave it out`,
      );
    }
    if (tools.platform !== 'linux') notes.push(`CPU affinity [${cpuList.join(', ')}] not applied: only supported on Linux (this is ${tools.platform}); the policy child may run on any CPU`);
    else if (tools.taskset === undefined) notes.push(`CPU affinity [${cpuList.join(', ')}] not applied: taskset (util-linux) not found; the policy child may run on any CPU`);
    else {
      prefix.push(tools.taskset, '-c', cpuList.join(','));
      eff.push(`CPUs ${cpuList.join(',')}`);
    }
  }
  const nice = placement.niceness ?? 19;
  if (sched === 'idle') {
    if (tools.platform !== 'linux') notes.push(`SCHED_IDLE not applied: only supported on Linux (this is ${tools.platform}); the policy child runs at niceness ${nice}`);
    else if (tools.chrt === undefined) notes.push(`SCHED_IDLE not applied: chrt (util-linux) not found or refused SCHED_IDLE; the policy child runs at niceness ${nice}`);
    else {
      prefix.push(tools.chrt, '--idle', '0');
      eff.unshift('SCHED_IDLE');
    }
  }
  if (!eff.includes('SCHED_IDLE')) eff.unshift(`nice ${nice}`);
  const [command, ...rest] = [...prefix, node, ...nodeArgs];
  return { command: command!, args: rest, notes, effective: eff.join(', ') };
}

/**
 * The default affinity: the last `threads` CPUs when that leaves at least CPU 0 free (2+ CPUs),
 * so the control loop's thread never shares a CPU with inference; otherwise none.
 */
export function defaultCpus(tools: Pick<Tools, 'cpuCount'>, threads = 1): number[] | undefined {
  const n = Math.max(1, Math.floor(threads));
  if (tools.cpuCount < 2 || n >= tools.cpuCount) return undefined;
  return Array.from({ length: n }, (_, i) => tools.cpuCount - n + i);
}

let probed: Tools | undefined;

/** Finds chrt and taskset by running them once (cached): a tool that is present but refuses counts as absent. */
export function probeTools(): Tools {
  if (probed !== undefined) return probed;
  const { platform } = process;
  const cpuCount = Math.max(1, cpus().length);
  const works = (cmd: string, args: string[]): boolean => {
    const r = spawnSync(cmd, args, { stdio: 'ignore', timeout: 5000 });
    return r.error === undefined && r.status === 0;
  };
  probed = {
    platform,
    cpuCount,
    chrt: platform === 'linux' && works('chrt', ['--idle', '0', 'true']) ? 'chrt' : undefined,
    taskset: platform === 'linux' && works('taskset', ['-c', '0', 'true']) ? 'taskset' : undefined,
  };
  return probed;
}
