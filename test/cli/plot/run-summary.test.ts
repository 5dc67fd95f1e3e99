import assert from 'node:assert/strict';
import { test } from 'node:test';
import { modelChanges } from '../../../src/cli/plot/learning-curve.js';
import { parseRunSummary } from '../../../src/cli/plot/run-summary.js';

test('model versions: a tick at the first episode of each new version, none for the first seen', () => {
  const episodes = [null, 0, 0, 1, 1, 3, null, 3, 4].map((v, i) => ({ episode: i + 1, cost: 1, success: true, modelVersion: v }));
  assert.deepEqual(modelChanges(episodes), [
    { x: 4, label: 'v1' },
    { x: 6, label: 'v3' },
    { x: 9, label: 'v4' },
  ]);
  assert.deepEqual(modelChanges(episodes.map((e) => ({ ...e, modelVersion: null }))), []);
});

test('a summary: the last non-empty line is the JSON; a null cost (NaN in the run) is kept as a gap', () => {
  const text = 'episodes 3/3\n\n{"config":"/x/config/cartpole-oracle.yaml","episodes":[{"cost":5,"success":true},{"cost":null,"success":false}]}\n  \n';
  const s = parseRunSummary(text, 'oracle.json');
  assert.equal(s.defaultLabel, 'cartpole-oracle');
  assert.deepEqual(
    s.episodes.map((e) => [e.episode, e.cost, e.success]),
    [
      [1, 5, true],
      [2, null, false],
    ],
  );
  assert.equal(parseRunSummary('{"episodes":[{"cost":1,"success":true}]}', 'runs/learning.json').defaultLabel, 'learning');
  assert.throws(() => parseRunSummary('\n \n', 'empty.json'), /run summary empty\.json is empty/);
  assert.throws(() => parseRunSummary('{"episodes":[]}', 'none.json'), /at least one episode/);
});
