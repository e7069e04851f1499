// The exact ordering behind issue 15's stale reads, byte for byte: a SYNC_READ whose first two
// attempts time out while their reply sets are merely late; the third attempt receives the first
// attempt's set; the next cycle's request then sees the second attempt's set with its first frame
// cut off (a drain caught it half-arrived), followed by the third attempt's set. Those frames line
// up with the next rotation of the ID order: without a tag that differs per attempt they are taken
// as the new cycle's positions. With the length tag they are refused and the fresh set is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FeetechMotorBus } from '../../../drivers/motors/feetech/bus';
import { DynamixelMotorBus } from '../../../drivers/motors/dynamixel/bus';
import type { ServoBus } from '../../../drivers/motors/ServoBus';
import { ServoChain } from '../../fakes/servo-emulator/ServoChain';
import { ScriptedTransport, type Delivery } from '../../fakes/servo-emulator/ScriptedTransport';

const IDS = [1, 2, 3, 4, 5, 6];

for (const protocol of ['feetech', 'dynamixel'] as const) {
  test(`${protocol}: late reply sets of earlier attempts, one cut at a frame, never pass for the next cycle's read`, async () => {
    const chain = new ServoChain({ protocol, servos: IDS.map((id) => ({ id, model: protocol === 'feetech' ? 'sts3215' : 'xl330-m288', position: 2000 })), speedTicksPerS: 0 });
    for (const id of IDS) chain.setRegister(id, protocol === 'feetech' ? 40 : 64, 1, 1); // torque on
    let tr: ScriptedTransport;
    const script = (k: number): Delivery[] => {
      if (k === 1 || k === 2) return []; // attempts 1 and 2 of cycle A: replies late
      if (k === 3) return [{ set: 1 }]; // attempt 3 receives attempt 1's set
      if (k === 4) return [{ set: 2, cut: tr.sets[1]!.length / IDS.length }, { set: 3 }, { set: 4 }];
      return [{ set: k }];
    };
    tr = new ScriptedTransport(chain, script);
    // Here the late sets reach the host whenever the script says, however much time has passed; a
    // real adapter's delay is bounded and the bus's horizon is sized from it. A 100 ms margin floor
    // keeps the horizon (≥ 210 ms past each timeout) longer than any stall of this test process.
    const opts = { latencyMarginMs: 100 };
    const bus = (protocol === 'feetech' ? new FeetechMotorBus(tr, opts) : new DynamixelMotorBus(tr, opts)) as unknown as ServoBus<string>;
    await bus.open();
    const goalsA = IDS.map((id) => 1500 + id);
    const goalsB = IDS.map((id) => 2500 + id);
    await bus.syncWrite('Goal_Position', IDS.map((id, i) => ({ id, value: goalsA[i]! })));
    const a = await bus.syncRead('Present_Position', IDS).catch(() => undefined);
    if (a) assert.deepEqual(a.values, goalsA);
    await bus.syncWrite('Goal_Position', IDS.map((id, i) => ({ id, value: goalsB[i]! })));
    const b = await bus.syncRead('Present_Position', IDS).catch((e: Error) => e);
    assert.ok(!(b instanceof Error), `cycle B failed: ${b instanceof Error ? b.message : ''}`);
    assert.deepEqual(b.values, goalsB, `cycle B returned cycle A positions as fresh: ${JSON.stringify(bus.stats)} sets ${tr.sets.map((s) => s.length).join(',')} a=${JSON.stringify(a?.values)}`);
    assert.ok(bus.stats.foreignFrames >= 5, `the late frames were recognised as answers to other requests: ${JSON.stringify(bus.stats)}`);
  });
}
