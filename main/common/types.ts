/**
 * Domain types shared by main and the renderer. Pure data, no I/O.
 * Units: body joints in degrees, gripper 0..100 (open..closed). Times in milliseconds
 * of a monotonic clock unless named otherwise.
 */

/** Who commands the arm this tick. `hold` = nobody (watchdog or idle): the arm holds position. */
export type ControlSource = 'estop' | 'operator' | 'policy' | 'hold';

export interface JointInfo {
  name: string;
  min: number;
  max: number;
  unit: 'deg' | 'percent';
}

export type Severity = 'info' | 'warning' | 'error';

/** A recoverable condition shown in the problems list (not an exception). */
export interface Problem {
  id: string; // stable key, so the same problem replaces itself instead of piling up
  severity: Severity;
  source: string; // 'loop' | 'watchdog' | 'robot' | 'policy' | 'camera:<key>' | 'recorder' | ...
  message: string;
  tip?: string;
  timeMs: number;
}

export interface TimingStats {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoopStats {
  rateHz: number; // configured
  achievedHz: number; // measured over the last window
  tick: TimingStats; // work time per tick
  lateness: TimingStats; // start of tick vs its deadline
  overruns: number; // ticks whose work exceeded the period
  ticks: number;
  stages: Record<string, number>; // p50 ms per named stage over the window
}

/** ECoT-style reasoning fields, as the expert annotates them and as a VLA emits them. */
export interface ReasoningFields {
  task?: string;
  plan?: string;
  subtask?: string;
  move?: string;
  gripper?: string;
  visibleObjects?: string; // e.g. "red block [34, 80, 52, 98], bowl [...]"
}

export interface CameraInfo {
  key: string;
  width: number;
  height: number;
  fps: number;
  frames: number;
  dropped: number;
}
