import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EcotParser } from '../../models/reasoning/ecot';
import { PlanCache, sceneDistance } from '../../models/reasoning/planCache';

// vocabulary: 4 <reason>, 5 </reason>, 6 <act>, 8.. markers, 20.. words
const WORDS: Record<number, string> = { 20: 'pick', 21: 'up', 22: 'block', 23: 'reach', 24: 'grasp', 25: 'move', 26: 'left', 27: 'open' };
const decode = (ids: readonly number[]): string => ids.map((i) => WORDS[i] ?? `?${i}`).join(' ');
const cfg = {
  fieldMarkers: { TASK: 8, PLAN: 9, 'VISIBLE OBJECTS': 10, SUBTASK: 11, MOVE: 12, GRIPPER: 13 },
  reasoningBegin: 4,
  reasoningEnd: 5,
  actionBegin: 6,
  planFields: ['TASK', 'PLAN'],
  decode,
};

test('ECoT parser: fields arrive incrementally, in any chunking of the token stream', () => {
  const stream = [4, 8, 20, 21, 22, 9, 23, 24, 10, 22, 11, 23, 12, 25, 26, 13, 27, 5, 6, 70, 71];
  const whole = new EcotParser(cfg);
  whole.push(stream);
  const want = { TASK: 'pick up block', PLAN: 'reach grasp', 'VISIBLE OBJECTS': 'block', SUBTASK: 'reach', MOVE: 'move left', GRIPPER: 'open' };
  assert.deepEqual(whole.fields(), want);
  assert.ok(whole.actionsStarted);
  const inc = new EcotParser(cfg);
  const seen: string[][] = [];
  for (let i = 0; i < stream.length; i += 3) seen.push(inc.push(stream.slice(i, i + 3)));
  assert.deepEqual(inc.fields(), want);
  assert.deepEqual(seen[0], ['TASK']);
  assert.equal(inc.field('MOVE'), 'move left');
  // the plan segment: from <reason> through PLAN, ending before the next field's marker
  assert.deepEqual(whole.planTokens(), [4, 8, 20, 21, 22, 9, 23, 24]);
});

test('ECoT parser: no plan segment until a non-plan field starts; tokens after <act> are ignored', () => {
  const p = new EcotParser(cfg);
  p.push([4, 8, 20, 9, 23]);
  assert.equal(p.planTokens(), undefined);
  assert.deepEqual(p.fields(), { TASK: 'pick', PLAN: 'reach' });
  const q = new EcotParser(cfg);
  q.push([6, 8, 20]);
  assert.deepEqual(q.fields(), {});
});

test('plan cache: hit while the instruction is the same and the scene moved less than the threshold', () => {
  const c = new PlanCache({ threshold: 0.1, maxUses: 2 });
  assert.equal(c.lookup('pick', [0, 0]), undefined);
  c.store('pick', [0, 0], [4, 8, 20]);
  assert.deepEqual(c.lookup('pick', [0.05, 0.05]), [4, 8, 20]);
  assert.equal(c.lookup('place', [0, 0]), undefined);
  assert.equal(c.lookup('pick', [0.5, 0]), undefined);
  assert.deepEqual(c.lookup('pick', [0, 0]), [4, 8, 20]);
  assert.equal(c.lookup('pick', [0, 0]), undefined); // maxUses reached: refresh the reasoning
  assert.equal(c.hits, 2);
  c.clear();
  assert.equal(c.lookup('pick', [0, 0]), undefined);
  assert.equal(sceneDistance([0, 1], [1, 1]), 0.5);
});
