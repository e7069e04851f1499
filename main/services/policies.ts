/**
 * Finds the policies a session can run: the simulator's scripted expert and every model bundle
 * under a bundles folder, each validated against the connected robot's joints (an invalid bundle
 * is listed with every problem, so the operator sees why it cannot start).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateBundle } from '../../models/runtime/bundle';
import { isRemoteManifestJson, validateRemoteBundle } from '../../models/remote/manifest';
import type { PolicyInfo } from '../common/contract';

/** `cameras`: the console's camera keys, checked against a remote policy's image mapping. */
export async function listBundles(bundlesDir: string, robotJoints: readonly string[], cameras?: readonly string[]): Promise<(PolicyInfo & { dir: string })[]> {
  if (!existsSync(bundlesDir)) return [];
  const out: (PolicyInfo & { dir: string })[] = [];
  for (const name of readdirSync(bundlesDir).sort()) {
    const dir = join(bundlesDir, name);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'manifest.json'))) continue;
    if (isRemote(dir)) {
      const r = validateRemoteBundle(dir, { robotJoints, ...(cameras ? { cameras } : {}) });
      out.push({
        id: name,
        name: `${name} — ${r.manifest?.description ?? `remote policy at ${r.manifest?.server.url ?? '?'}`}`,
        kind: 'remote',
        valid: r.ok,
        problems: r.problems.map((p) => `${p.path}: ${p.message}`),
        dir,
      });
      continue;
    }
    const report = await validateBundle(dir, { robotJoints: [...robotJoints] });
    out.push({
      id: name,
      name: report.manifest?.description ? `${name} — ${report.manifest.description}` : name,
      kind: report.manifest?.policy.kind === 'chunk_regression' ? 'chunk_regression' : 'autoregressive',
      valid: report.problems.length === 0,
      problems: report.problems.map((p) => `${p.path}: ${p.message}`),
      dir,
    });
  }
  return out;
}

function isRemote(dir: string): boolean {
  try {
    return isRemoteManifestJson(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
  } catch {
    return false; // validateBundle reports the unreadable manifest
  }
}
