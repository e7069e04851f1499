import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkWatchdog, defaultWatchdogConfig } from '../../../main/control/watchdog';

const c = { maxTickGapMs: 100, maxStateAgeMs: 50, maxInputAgeMs: 100, maxPolicyStallMs: 1000 };

test('fresh inputs pass', () => {
  assert.deepEqual(checkWatchdog(c, { nowMs: 1000, prevTickMs: 967, stateTimeMs: 995, streamingInputMs: 990, policyLastActionMs: 980 }), []);
});

test('each stale input trips its own reason', () => {
  assert.deepEqual(checkWatchdog(c, { nowMs: 1000, prevTickMs: 800, stateTimeMs: 900, streamingInputMs: 850, policyLastActionMs: -1 }), ['tick', 'state', 'input', 'policy']);
});

test('defaults scale with the rate', () => {
  assert.equal(defaultWatchdogConfig(30).maxTickGapMs, 4000 / 30);
  assert.equal(defaultWatchdogConfig(200).maxTickGapMs, 100);
});
