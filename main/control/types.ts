/**
 * Types the control loop is written against. The loop composes a Robot, Cameras,
 * operator inputs and a PolicyRunner; everything else (recorder, telemetry) is a StepSink.
 */
import type { Frame } from '../../drivers/cameras/Camera';
import type { ControlSource, ReasoningFields } from '../common/types';
import type { WatchdogReason } from './watchdog';

export interface Observation {
  timeMs: number;
  /** Present joint positions, ordered as the robot's joints. */
  state: number[];
  images: Record<string, Frame | undefined>;
  task: string;
}

export interface PolicyOutput {
  goal: number[];
  /** Reasoning that belongs to this step (expert annotations or the VLA's decoded ECoT fields). */
  reasoning?: ReasoningFields;
}

/**
 * A policy as the loop sees it: `step` never blocks. An asynchronous runner (a VLA) keeps an
 * action queue, starts inference when it runs low, and returns undefined when nothing is queued
 * (the loop then holds and the watchdog counts the stall).
 */
export interface PolicyRunner {
  readonly name: string;
  step(obs: Observation): PolicyOutput | undefined;
  /** Drop queued actions and start fresh from the next observation (handback after a takeover). */
  reset(): void;
  stop(): Promise<void>;
}

/** What the loop did on one tick: exactly what was sent, with the observation behind it. */
export interface StepRecord {
  tick: number;
  timeMs: number;
  observation: Observation;
  /** Goal sent to the robot after arbitration and safety clamp. */
  action: number[];
  source: ControlSource;
  /** True when the operator (not the policy) commanded this tick. */
  intervention: boolean;
  clamped: boolean;
  /** Why the watchdog held or reported this tick (empty when all inputs were fresh). */
  watchdog: WatchdogReason[];
  reasoning?: ReasoningFields;
}

/** Receives every step. Must not block: a sink that does I/O queues and drains off the tick. */
export interface StepSink {
  onStep(step: StepRecord): void;
}

/** Injected clock: the loop's logic is tested without real time. */
export interface Clock {
  nowMs(): number;
}
