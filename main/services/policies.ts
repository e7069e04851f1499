/**
 * Finds the policies a session can run: the simulator's scripted expert and every model bundle
 * under a bundles folder, each validated against the connected robot's joints (an invalid bundle
 * is listed with every problem, so the operator sees why it cannot start).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateBundle } from '../../models/runtime/bundle';
import type { PolicyInfo } from '../common/contract';

export async function listBundles(bundlesDir: string, robotJoints: readonly string[]): Promise<(PolicyInfo & { dir: string })[]> {
  if (!existsSync(bundlesDir)) return [];
  const out: (PolicyInfo & { dir: string })[] = [];
  for (const name of readdirSync(bundlesDir).sort()) {
    const dir = join(bundlesDir, name);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'manifest.json'))) continue;
    const report = await validateBundle(dir, { robotJoints: [...robotJoints] });
    out.push({
      id: name,
      // the menu shows the short name; the description goes in the detail line under it
      name,
      ...(report.manifest?.description ? { description: report.manifest.description } : {}),
      kind: report.manifest?.policy.kind === 'chunk_regression' ? 'chunk_regression' : 'autoregressive',
      valid: report.problems.length === 0,
      problems: report.problems.map((p) => `${p.path}: ${p.message}`),
      dir,
    });
  }
  return out;
}
