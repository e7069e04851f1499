// LeaderTeleop with a fake leader arm: absolute samples, staleness, errors kept for the UI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderTeleop } from '../../../drivers/teleop/leader/LeaderTeleop';
import type { LeaderArm } from '../../../drivers/robots/so101/ServoLeader';
import { CommunicationError } from '../../../drivers/transport/errors';

class FakeLeader implements LeaderArm {
  readonly type = 'so101_leader';
  readonly id = 'l';
  readonly jointNames = ['a', 'b'];
  isConnected = false;
  isCalibrated = true;
  positions = [1, 2];
  fail = false;
  reads = 0;
  async connect() {
    this.isConnected = true;
  }
  async disconnect() {
    this.isConnected = false;
  }
  async readPositions() {
    this.reads++;
    if (this.fail) throw new CommunicationError('timeout', 'No reply from servo 2 (b)');
    return [...this.positions];
  }
}

const until = async (cond: () => boolean) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 2000) throw new Error('timeout');
    await new Promise((r) => setTimeout(r, 2));
  }
};

test('leader teleop streams absolute positions and goes quiet when the leader stops answering', async () => {
  const leader = new FakeLeader();
  let now = 0;
  const teleop = new LeaderTeleop(leader, { rateHz: 200, staleMs: 50, now: () => now });
  assert.equal(teleop.streaming, true);
  assert.equal(teleop.poll(0), undefined);
  await teleop.connect();
  await until(() => leader.reads > 2);
  const s = teleop.poll(now);
  assert.deepEqual(s?.command, { kind: 'absolute', positions: [1, 2] });
  leader.positions = [3, 4];
  await until(() => teleop.poll(now)?.command.kind === 'absolute' && (teleop.poll(now)!.command as { positions: number[] }).positions[0] === 3);
  leader.fail = true;
  const errs = teleop.stats.errors;
  await until(() => teleop.stats.errors > errs);
  assert.ok(teleop.lastError instanceof CommunicationError);
  now += 51; // no fresh sample for longer than staleMs: the loop's watchdog holds
  assert.equal(teleop.poll(now), undefined);
  await teleop.disconnect();
  assert.equal(leader.isConnected, false);
});

test('leader teleop refuses rates below 100 Hz', () => {
  assert.throws(() => new LeaderTeleop(new FakeLeader(), { rateHz: 50 }), RangeError);
});
