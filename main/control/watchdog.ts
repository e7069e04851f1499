/**
 * The watchdog: holds position when the loop or an input goes stale. Pure; the loop feeds it times.
 *  - tick: the gap since the previous tick exceeds `maxTickGapMs` (the process stalled: GC, a
 *    blocked thread) — commands computed from an old observation must not be sent as if fresh;
 *  - state: the robot's reading is older than `maxStateAgeMs` (a bus that stopped answering);
 *  - operator stream: a streaming teleop (leader arm) sample is older than `maxInputAgeMs`;
 *  - policy: the policy is in control but has produced no action for `maxPolicyStallMs`.
 * It never depends on the renderer or the policy to trip.
 */
export interface WatchdogConfig {
  maxTickGapMs: number;
  maxStateAgeMs: number;
  maxInputAgeMs: number;
  maxPolicyStallMs: number;
}

export interface WatchdogInputs {
  nowMs: number;
  prevTickMs?: number;
  stateTimeMs: number;
  /** Time of the latest streaming operator sample, when a streaming teleop is in control. */
  streamingInputMs?: number;
  /** Time of the policy's last action while the policy is the intended source. */
  policyLastActionMs?: number;
}

export type WatchdogReason = 'tick' | 'state' | 'input' | 'policy';

export function checkWatchdog(c: WatchdogConfig, i: WatchdogInputs): WatchdogReason[] {
  const reasons: WatchdogReason[] = [];
  if (i.prevTickMs !== undefined && i.nowMs - i.prevTickMs > c.maxTickGapMs) reasons.push('tick');
  if (i.nowMs - i.stateTimeMs > c.maxStateAgeMs) reasons.push('state');
  if (i.streamingInputMs !== undefined && i.nowMs - i.streamingInputMs > c.maxInputAgeMs) reasons.push('input');
  if (i.policyLastActionMs !== undefined && i.nowMs - i.policyLastActionMs > c.maxPolicyStallMs) reasons.push('policy');
  return reasons;
}

export function defaultWatchdogConfig(rateHz: number): WatchdogConfig {
  const period = 1000 / rateHz;
  return {
    maxTickGapMs: Math.max(4 * period, 100),
    maxStateAgeMs: Math.max(3 * period, 50),
    maxInputAgeMs: Math.max(5 * period, 100),
    maxPolicyStallMs: 1000,
  };
}
