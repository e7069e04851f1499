/**
 * Enforces shared/DESIGN.md's import table on every source file:
 *   renderer/**        → renderer/**, main/common/**
 *   main/preload/**    → main/common/**, electron
 *   main/** (other)    → main/**, drivers/**, models/** (electron only in main/app/)
 *   drivers/**         → drivers/**
 *   models/**          → models/**
 *   main/common/**     → main/common/** only (pure, shared with the renderer: no node:, no electron)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const TOP = ['main', 'drivers', 'models', 'renderer'];

function walk(dir: string, out: string[]): string[] {
  for (const n of readdirSync(dir)) {
    if (n === 'node_modules' || n === 'bundles' || n === 'train') continue;
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|svelte)$/.test(n) && !n.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(src: string): string[] {
  const out: string[] = [];
  for (const m of src.matchAll(IMPORT_RE)) out.push((m[1] ?? m[2])!);
  return out;
}

function area(rel: string): string {
  if (rel.startsWith('main/common/')) return 'main/common';
  if (rel.startsWith('main/preload/')) return 'main/preload';
  if (rel.startsWith('main/app/')) return 'main/app';
  return rel.split('/')[0]!;
}

/** Returns a reason when the import breaks the table, else undefined. */
export function violation(fromRel: string, spec: string): string | undefined {
  const a = area(fromRel);
  if (spec.startsWith('.')) {
    const target = normalize(join(dirname(fromRel), spec));
    const t = area(target);
    const allowed: Record<string, string[]> = {
      renderer: ['renderer', 'main/common'],
      'main/preload': ['main/common', 'main/preload'],
      'main/common': ['main/common'],
      'main/app': ['main', 'main/app', 'main/common', 'drivers', 'models'],
      main: ['main', 'main/common', 'drivers', 'models'],
      drivers: ['drivers'],
      models: ['models'],
    };
    return allowed[a]?.includes(t) ? undefined : `${a} may not import ${t}`;
  }
  if (spec === 'electron' || spec.startsWith('electron/')) return a === 'main/app' || a === 'main/preload' ? undefined : `only main/app and main/preload may import electron`;
  if (spec === 'onnxruntime-node') return fromRel.startsWith('models/runtime/') ? undefined : 'only models/runtime may import onnxruntime-node';
  if (spec === 'serialport' || spec.startsWith('@serialport/')) return a === 'drivers' ? undefined : 'only drivers may import serialport';
  if ((a === 'main/common' || a === 'renderer' || a === 'main/preload') && (spec.startsWith('node:') || ['fs', 'path', 'child_process', 'os', 'crypto'].includes(spec))) return `${a} is shared with the renderer: no Node built-ins`;
  return undefined;
}

test('the import rule itself catches what it should', () => {
  assert.equal(violation('drivers/sim/world.ts', '../../models/chunking/queue'), 'drivers may not import models');
  assert.equal(violation('models/runtime/x.ts', '../../drivers/robots/Robot'), 'models may not import drivers');
  assert.equal(violation('renderer/src/App.svelte', '../../main/control/loop'), 'renderer may not import main');
  assert.equal(violation('renderer/src/lib/api.ts', '../../../main/common/contract'), undefined);
  assert.equal(violation('main/services/session.ts', 'electron'), 'only main/app and main/preload may import electron');
  assert.equal(violation('main/common/types.ts', 'node:fs'), 'main/common is shared with the renderer: no Node built-ins');
  assert.equal(violation('main/services/x.ts', 'onnxruntime-node'), 'only models/runtime may import onnxruntime-node');
  assert.deepEqual(importsOf(`import type { A } from './a';\nexport { b } from "../b";\nconst m = await import('./c');`), ['./a', '../b', './c']);
});

test('every source file follows the DESIGN.md import table', () => {
  const bad: string[] = [];
  let checked = 0;
  for (const top of TOP) {
    let files: string[] = [];
    try {
      files = walk(join(ROOT, top), []);
    } catch {
      continue;
    }
    for (const f of files) {
      const rel = relative(ROOT, f).split('\\').join('/');
      for (const spec of importsOf(readFileSync(f, 'utf8'))) {
        checked++;
        const v = violation(rel, spec);
        if (v) bad.push(`${rel}: import '${spec}' — ${v}`);
      }
    }
  }
  assert.ok(checked > 20, `expected to check many imports, checked ${checked}`);
  assert.deepEqual(bad, []);
});
