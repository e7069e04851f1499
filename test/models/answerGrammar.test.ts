import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answerGrammar } from '../../models/policies/answerGrammar';

// ids: 1 eos, 4 <reason>, 5 </reason>, 6 <act>, 7 </act>, words 8..99, actions 100..109
const spec = { reasoningBegin: 4, reasoningEnd: 5, actionBegin: 6, actionEnd: 7, eos: 1, isAction: (id: number) => id >= 100 && id < 110, count: 3 };
const allowed = (f: ((id: number) => boolean) | undefined): number[] | 'any' =>
  f === undefined ? 'any' : Array.from({ length: 110 }, (_, i) => i).filter(f);

test('answer grammar: reasoning words only until </reason>, then <act>, then exactly the chunk, then </act>', () => {
  const g = answerGrammar(spec, [4]);
  const words = allowed(g([20, 21]));
  assert.ok(Array.isArray(words) && words.includes(5) && words.includes(20));
  assert.ok(Array.isArray(words) && !words.some((id) => id >= 100 || id === 6 || id === 7 || id === 1), 'no actions, markers or EOS inside the reasoning');
  assert.deepEqual(allowed(g([20, 5])), [6]);
  assert.deepEqual(allowed(g([20, 5, 6])), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  assert.deepEqual(allowed(g([20, 5, 6, 100, 101])), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  assert.deepEqual(allowed(g([20, 5, 6, 100, 101, 102])), [1, 7]);
  assert.equal(allowed(g([20, 5, 6, 100, 101, 102, 7])), 'any');
});

test('answer grammar: a cached plan or reasoning dropout in the prompt sets the starting state; FAST chunks may end any time', () => {
  assert.deepEqual(allowed(answerGrammar(spec, [6])([])), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  const cached = answerGrammar(spec, [4, 30, 31]);
  const w = allowed(cached([]));
  assert.ok(Array.isArray(w) && !w.includes(100) && w.includes(5));
  const fast = answerGrammar({ ...spec, count: undefined }, [6]);
  assert.deepEqual(allowed(fast([100])), [7, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
  // a bundle without reasoning markers in the answer is not constrained before <act>
  assert.equal(allowed(answerGrammar(spec, [])([20])), 'any');
});
