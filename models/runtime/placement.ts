/**
 * Where and how the inference child runs next to the control loop: its CPU scheduling class
 * (Linux SCHED_IDLE through util-linux `chrt --idle 0`), its CPU affinity (`taskset -c`), and its
 * niceness. The child is started *through* the tools (`taskset -c L chrt --idle 0 node child.ts`),
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
   * 'idle' (default): SCHED_IDLE — the child gets a CPU only when no normal task wants it, so a
   * loop thread is never queued behind an inference. 'normal': SCHED_OTHER at `niceness`.
   */
  sched?: SchedClass;
  /** CPUs the child may run on (taskset -c); undefined: any. */
  cpus?: readonly number[];
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
export function planLaunch(node: string, nodeArgs: readonly string[], placement: ChildPlacement, tools: Tools): LaunchPlan {
  const sched = placement.sched ?? 'idle';
  const notes: string[] = [];
  const prefix: string[] = [];
  const eff: string[] = [];
  if (placement.cpus !== undefined) {
    const bad = placement.cpus.filter((c) => !Number.isInteger(c) || c < 0 || c >= tools.cpuCount);
    if (placement.cpus.length === 0 || bad.length > 0) {
      throw new PlacementError(
        `policy CPU affinity [${placement.cpus.join(', ')}] is not a non-empty list of this machine's CPUs (0..${tools.cpuCount - 1}); fix the cpus setting or leave it out`,
      );
    }
    if (tools.platform !== 'linux') notes.push(`CPU affinity [${placement.cpus.join(', ')}] not applied: only supported on Linux (this is ${tools.platform}); the policy child may run on any CPU`);
    else if (tools.taskset === undefined) notes.push(`CPU affinity [${placement.cpus.join(', ')}] not applied: taskset (util-linux) not found; the policy child may run on any CPU`);
    else {
      prefix.push(tools.taskset, '-c', placement.cpus.join(','));
      eff.push(`CPUs ${placement.cpus.join(',')}`);
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
