/**
 * Replays a recorded episode's actions through the loop as if a policy sent them, one per tick.
 * The arbiter and the safety clamp apply as for any policy: the operator can take over, the
 * e-stop wins, and a first action far from the arm's pose is approached one bounded step at a time.
 */
import type { PolicyOutput, PolicyRunner } from '../control/types';

export class ReplayRunner implements PolicyRunner {
  readonly name: string;
  private i = 0;
  constructor(
    private readonly actions: readonly number[][],
    episodeIndex: number,
  ) {
    this.name = `replay of episode ${episodeIndex}`;
  }
  step(): PolicyOutput | undefined {
    const a = this.actions[Math.min(this.i, this.actions.length - 1)];
    this.i++;
    return a ? { goal: [...a] } : undefined; // past the end it holds the last action
  }
  reset(): void {
    /* after a takeover the replay continues where it was: the recorded timeline is fixed */
  }
  async stop(): Promise<void> {}
}

/**
 * Maps recorded actions (named joints, e.g. 'shoulder_pan.pos') onto the robot's joint order.
 * Returns an error message when a robot joint has no recorded column.
 */
export function mapActions(recordedNames: readonly string[], robotJoints: readonly string[], actions: readonly number[][]): number[][] | string {
  const clean = recordedNames.map((n) => n.replace(/\.pos$/, ''));
  const idx = robotJoints.map((j) => clean.indexOf(j));
  const missing = robotJoints.filter((_, k) => idx[k]! < 0);
  if (missing.length) return `The episode has no recorded action for ${missing.join(', ')}; it was recorded with joints ${clean.join(', ')}.`;
  return actions.map((row) => idx.map((k) => row[k]!));
}
