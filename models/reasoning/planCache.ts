/**
 * Plan cache (Fast ECoT thought reuse): keeps the TASK/PLAN tokens of the last full reasoning and
 * hands them back — to be prefilled instead of generated — while the instruction is unchanged and
 * the scene has changed less than `threshold` (mean absolute difference of a scene signature,
 * e.g. the normalised state and a downsampled image) since the plan was made. A plan also expires
 * after `maxUses` reuses, so the reasoning is refreshed now and then. Pure.
 */
export interface PlanCacheOptions {
  threshold: number;
  maxUses?: number;
}

export class PlanCache {
  private entry: { instruction: string; scene: Float32Array; tokens: number[]; uses: number } | undefined;
  hits = 0;
  misses = 0;

  constructor(private readonly opts: PlanCacheOptions) {}

  lookup(instruction: string, scene: ArrayLike<number>): number[] | undefined {
    const e = this.entry;
    if (e === undefined || e.instruction !== instruction || e.scene.length !== scene.length) return this.miss();
    if (sceneDistance(e.scene, scene) > this.opts.threshold) return this.miss();
    if (this.opts.maxUses !== undefined && e.uses >= this.opts.maxUses) return this.miss();
    e.uses++;
    this.hits++;
    return [...e.tokens];
  }

  store(instruction: string, scene: ArrayLike<number>, tokens: readonly number[]): void {
    this.entry = { instruction, scene: Float32Array.from(scene), tokens: [...tokens], uses: 0 };
  }

  clear(): void {
    this.entry = undefined;
  }

  private miss(): undefined {
    this.misses++;
    return undefined;
  }
}

/** Mean absolute difference between two signatures of equal length. */
export function sceneDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return a.length === 0 ? 0 : s / a.length;
}
