/**
 * The simulator's scripted expert as a PolicyRunner: it reads the simulated world's ground truth
 * (it is an expert, not a learned policy) and annotates each step with ECoT-style fields.
 * When the task is done it keeps holding its last goal.
 */
import type { ScriptedExpert } from '../../drivers/sim';
import type { PolicyOutput, PolicyRunner } from '../control/types';

export class ExpertRunner implements PolicyRunner {
  readonly name = 'expert';
  private current: ScriptedExpert;
  constructor(private readonly make: () => ScriptedExpert) {
    this.current = make();
  }
  step(): PolicyOutput {
    const r = this.current.act();
    const a = r.annotation;
    return { goal: r.goal, reasoning: { task: a.task, plan: a.plan, subtask: a.subtask, move: a.move, gripper: a.gripper, visibleObjects: a.visibleObjects } };
  }
  /** After a takeover the scene may have changed: plan again from the present state. */
  reset(): void {
    this.current = this.make();
  }
  async stop(): Promise<void> {}
}
