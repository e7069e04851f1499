/**
 * The safety clamp: the last stage before the arm, always on. Pure.
 * - Joint limits (calibrated range or sim limits): a goal outside is cut to the limit.
 * - Maximum change per tick relative to the previous goal sent: a jump (a bad policy output, a
 *   mistyped jog, a stale leader reading) becomes a bounded step, so the arm never lunges.
 * It reports what it changed so the console can show it.
 */
export interface JointLimit {
  min: number;
  max: number;
}

export interface ClampResult {
  goal: number[];
  clamped: boolean;
  /** Indices of joints whose goal was changed, with the requested and sent values. */
  changes: { joint: number; requested: number; sent: number; reason: 'limit' | 'step' | 'invalid' }[];
}

export function clampGoal(requested: readonly number[], reference: readonly number[], limits: readonly JointLimit[], maxStep: readonly number[]): ClampResult {
  if (requested.length !== limits.length || reference.length !== limits.length || maxStep.length !== limits.length) {
    throw new Error(`clampGoal: length mismatch (goal ${requested.length}, reference ${reference.length}, limits ${limits.length}, maxStep ${maxStep.length})`);
  }
  const goal: number[] = new Array(limits.length);
  const changes: ClampResult['changes'] = [];
  for (let i = 0; i < limits.length; i++) {
    const lim = limits[i]!;
    const ref = reference[i]!;
    let v = requested[i]!;
    let reason: 'limit' | 'step' | 'invalid' | undefined;
    if (!Number.isFinite(v)) {
      v = ref; // NaN/Infinity from a broken policy: hold this joint
      reason = 'invalid';
    }
    const step = maxStep[i]!;
    if (v > ref + step) {
      v = ref + step;
      reason ??= 'step';
    } else if (v < ref - step) {
      v = ref - step;
      reason ??= 'step';
    }
    if (v > lim.max) {
      v = lim.max;
      reason ??= 'limit';
    } else if (v < lim.min) {
      v = lim.min;
      reason ??= 'limit';
    }
    goal[i] = v;
    if (reason !== undefined) changes.push({ joint: i, requested: requested[i]!, sent: v, reason });
  }
  return { goal, clamped: changes.length > 0, changes };
}
