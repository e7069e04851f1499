/**
 * The safety clamp: the last stage before the arm, always on. Pure.
 * - Maximum change per tick relative to a reference (the previous goal sent, or for a hold the
 *   measured position): a jump (a bad policy output, a mistyped jog, a stale leader reading)
 *   becomes a bounded step, so the arm never lunges.
 * - Bounded lead: a goal never leads the *measured* position by more than `maxLead` (a few ticks of
 *   servo motion). Servos that lag (a policy or a jog asking for more speed than they have) would
 *   otherwise let the goal wind up far ahead of the arm, and the arm would keep travelling toward it
 *   whatever happens next.
 * - Joint limits (calibrated range or sim limits): a goal outside is cut to the limit.
 * It reports what it changed so the console can show it.
 */
export interface JointLimit {
  min: number;
  max: number;
}

export type ClampReason = 'limit' | 'step' | 'lead' | 'invalid';

export interface ClampResult {
  goal: number[];
  clamped: boolean;
  /** Indices of joints whose goal was changed, with the requested and sent values (first reason that applied). */
  changes: { joint: number; requested: number; sent: number; reason: ClampReason }[];
}

export interface LeadBound {
  /** Present (measured) joint positions. */
  measured: readonly number[];
  /** Largest distance a goal may lead the measured position, per joint (Infinity: unbounded). */
  maxLead: readonly number[];
}

export function clampGoal(requested: readonly number[], reference: readonly number[], limits: readonly JointLimit[], maxStep: readonly number[], lead?: LeadBound): ClampResult {
  if (requested.length !== limits.length || reference.length !== limits.length || maxStep.length !== limits.length || (lead && (lead.measured.length !== limits.length || lead.maxLead.length !== limits.length))) {
    throw new Error(`clampGoal: length mismatch (goal ${requested.length}, reference ${reference.length}, limits ${limits.length}, maxStep ${maxStep.length}${lead ? `, measured ${lead.measured.length}, maxLead ${lead.maxLead.length}` : ''})`);
  }
  const goal: number[] = new Array(limits.length);
  const changes: ClampResult['changes'] = [];
  for (let i = 0; i < limits.length; i++) {
    const lim = limits[i]!;
    const ref = reference[i]!;
    let v = requested[i]!;
    let reason: ClampReason | undefined;
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
    if (lead) {
      const m = lead.measured[i]!;
      const l = lead.maxLead[i]!;
      if (Number.isFinite(m)) {
        if (v > m + l) {
          v = m + l;
          reason ??= 'lead';
        } else if (v < m - l) {
          v = m - l;
          reason ??= 'lead';
        }
      }
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
