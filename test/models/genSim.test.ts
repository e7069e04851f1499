import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runExpertEpisode } from '../../drivers/sim/expertEpisode';

test('gen_sim.ts writes the expert episodes the recorder would record: raw frames, states, labels and annotations', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'reins-gen-'));
  try {
    const out = join(dir, 'shard');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'models/train/gen_sim.ts', '--first-seed', '7', '--episodes', '2', '--out', out, '--size', '16'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const eps = readFileSync(`${out}.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(eps.length, summary.kept);
    assert.ok(summary.kept >= 1);
    const frames = eps.reduce((a, e) => a + e.frames, 0);
    assert.equal(summary.frames, frames);
    assert.equal(statSync(`${out}.frames`).size, frames * 2 * 16 * 16 * 3);
    // the first episode again, straight from the shared episode runner: same labels, states and first frames
    const e = eps[0];
    const states: number[][] = [];
    const goals: number[][] = [];
    const vo: string[] = [];
    let front0: Uint8Array | undefined;
    const res = await runExpertEpisode({ seed: e.seed, fps: 30, width: 16, height: 16, maxSeconds: 30, actionNoiseDeg: 1.5 }, (t) => {
      states.push(t.state);
      goals.push(t.goal);
      vo.push(t.annotation.visibleObjects);
      front0 ??= t.images.front.data.slice();
    });
    assert.ok(res.success);
    assert.equal(e.task, res.task);
    assert.deepEqual(e.state, states);
    assert.deepEqual(e.action, goals);
    assert.deepEqual(e.ann.visible_objects, vo);
    for (const k of ['task', 'plan', 'subtask', 'move', 'gripper']) assert.equal(e.ann[k].length, e.frames);
    const bytes = readFileSync(`${out}.frames`);
    assert.deepEqual(new Uint8Array(bytes.subarray(0, 16 * 16 * 3)), front0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
