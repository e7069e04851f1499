import assert from 'node:assert/strict';
import { test } from 'node:test';
import { episodeIndexList, filterEpisodes, hasIntervention } from '../../renderer/src/lib/episodes';

const ep = (index: number, takeovers: number, interventionFrames: number, task = 't') => ({ index, takeovers, interventionFrames, task });

test('"episodes with interventions" keeps exactly the episodes the operator took over, in order', () => {
  const list = [ep(0, 0, 0), ep(1, 2, 40), ep(2, 0, 0), ep(3, 1, 1), ep(4, 0, 3)];
  assert.deepEqual(filterEpisodes(list, 'interventions').map((e) => e.index), [1, 3, 4]);
  assert.deepEqual(filterEpisodes(list, 'all').map((e) => e.index), [0, 1, 2, 3, 4]);
  assert.equal(filterEpisodes(list, 'interventions')[0]!.task, 't'); // the rows keep their fields
  assert.equal(hasIntervention(ep(9, 0, 0)), false);
  assert.deepEqual(filterEpisodes([ep(0, 0, 0)], 'interventions'), []);
  assert.equal(episodeIndexList(filterEpisodes(list, 'interventions')), '[1, 3, 4]');
  assert.equal(episodeIndexList([]), '[]');
});
