/**
 * Issue 12, finding 10: `policy.list` validated every bundle (loading its ONNX graphs, which
 * onnxruntime-node does synchronously on the calling thread) on the loop's thread, on every call.
 * Now bundles are validated in a worker thread, once per change of their files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { ConsoleSession } from '../../../main/services/session';
import type { PolicyInfo } from '../../../main/common/contract';

const bundles = fileURLToPath(new URL('../../../models/bundles', import.meta.url));

test('policy.list loads no ONNX graph on the loop\'s thread, validates each bundle once, and again only when it changes', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-bundles-'));
  cpSync(join(bundles, 'fixture'), join(dir, 'fixture'), { recursive: true });
  // Every ONNX session this thread creates goes through InferenceSession.create: count them.
  const Session = ort.InferenceSession as unknown as { create: (...a: unknown[]) => Promise<unknown> };
  const create = Session.create;
  let onThisThread = 0;
  Session.create = (...a: unknown[]) => {
    onThisThread++;
    return create.apply(Session, a);
  };
  const s = new ConsoleSession({ bundlesDir: dir, homeDir: join(dir, 'home'), cameraWidth: 224, cameraHeight: 224 });
  const conn = s.api.connect({ sendEvent: () => {}, sendFrame: () => {} });
  const list = async (): Promise<PolicyInfo[]> => {
    const r = await conn.invoke('policy.list', {});
    assert.ok(r.ok, JSON.stringify(r));
    return r.value as PolicyInfo[];
  };
  try {
    const all = await Promise.all(Array.from({ length: 20 }, list));
    for (const l of all) {
      const f = l.find((b) => b.id === 'fixture');
      assert.ok(f, 'the bundle is listed');
      assert.equal(f.valid, true, f.problems.join('\n'));
    }
    for (let i = 0; i < 5; i++) await list();
    assert.equal(onThisThread, 0, 'ONNX graphs were loaded on the loop\'s thread');
    assert.equal(s.catalog.validations, 1, 'the bundle was validated once for 25 calls');

    // A change to the bundle is seen: a broken manifest is reported, and fixing it is seen too.
    const manifest = join(dir, 'fixture', 'manifest.json');
    const good = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, good.replace('"action"', '"acton"'));
    utimesSync(manifest, new Date(), new Date(Date.now() + 5000));
    const broken = (await list()).find((b) => b.id === 'fixture')!;
    assert.equal(broken.valid, false);
    assert.ok(broken.problems.length > 0);
    writeFileSync(manifest, good);
    utimesSync(manifest, new Date(), new Date(Date.now() + 10_000));
    assert.equal((await list()).find((b) => b.id === 'fixture')!.valid, true);
    assert.equal(s.catalog.validations, 3);
    // A bundle removed is no longer listed.
    rmSync(join(dir, 'fixture'), { recursive: true });
    assert.equal((await list()).find((b) => b.id === 'fixture'), undefined);
    assert.equal(onThisThread, 0);
  } finally {
    Session.create = create;
    conn.close();
    await s.stop();
  }
});
