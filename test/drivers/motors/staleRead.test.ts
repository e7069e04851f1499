// Property test: never a stale read. Thousands of SYNC_WRITE + SYNC_READ cycles over a real pty
// against the emulator with a USB adapter in between (latency 0–20 ms, fixed and jittered),
// replies that land late (after the driver's timeout: a retry then collects while they are still
// on their way), late duplicate reply sets, dropped / corrupted / garbage-prefixed replies,
// fault bits that come and go mid-run, and a host that stalls (a busy event loop, as under CPU
// load). Every cycle moves every servo to a new goal (instant motion), so the truth for a read
// is what the emulator holds at that moment; every value the driver returns as good must equal it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SerialTransport } from '../../../drivers/transport/SerialTransport';
import { FeetechMotorBus } from '../../../drivers/motors/feetech/bus';
import { DynamixelMotorBus } from '../../../drivers/motors/dynamixel/bus';
import type { ServoBus } from '../../../drivers/motors/ServoBus';
import { ServoEmulator, openPtyPair, socatAvailable, type AdapterModel } from '../../fakes/servo-emulator';
import { xorshift32 } from '../../fakes/servo-emulator/rng';

const SKIP = socatAvailable() ? false : 'socat is not installed';
const IDS = [1, 2, 3, 4, 5, 6];

interface Phase {
  cycles: number;
  adapter: Partial<AdapterModel>;
}

// Phases follow each other without warning the driver: the latency jumps from 0 to 16 ms (its
// margin lags behind, so whole cycles time out and their reply sets land in the next cycle), and
// the last phase holds 5 % of reply sets for 30 ms (past every retry of a cycle).
const PHASES: Phase[] = [
  { cycles: 700, adapter: { latencyMs: 0, jitterMs: 0, lateRate: 0.02, lateMs: 6, duplicateRate: 0.02, duplicateDelayMs: 2 } },
  { cycles: 120, adapter: { latencyMs: 16, jitterMs: 4, lateRate: 0.03, lateMs: 20, duplicateRate: 0.03, duplicateDelayMs: 10 } },
  { cycles: 300, adapter: { latencyMs: 2, jitterMs: 1, lateRate: 0.03, lateMs: 8, duplicateRate: 0.03, duplicateDelayMs: 4 } },
  { cycles: 150, adapter: { latencyMs: 8, jitterMs: 2, lateRate: 0.03, lateMs: 12, duplicateRate: 0.03, duplicateDelayMs: 6 } },
  { cycles: 400, adapter: { latencyMs: 1, jitterMs: 1, lateRate: 0.05, lateMs: 30, duplicateRate: 0.05, duplicateDelayMs: 3 } },
];

for (const protocol of ['feetech', 'dynamixel'] as const) {
  test(`${protocol}: no stale read in ${PHASES.reduce((a, p) => a + p.cycles, 0)} cycles with adapter latency 0–20 ms, late and duplicate replies, drops, corruption, fault bits, host stalls`, { skip: SKIP, timeout: 240_000 }, async (t) => {
    const pty = await openPtyPair();
    const emu = new ServoEmulator({ path: pty.device, protocol, servos: IDS.map((id) => ({ id, model: protocol === 'feetech' ? 'sts3215' : 'xl330-m288', position: 2000 })), speedTicksPerS: 0, seed: 99 });
    await emu.start();
    const transport = new SerialTransport({ path: pty.host });
    // The driver's defaults: nothing here tells it the adapter's latency.
    const bus = (protocol === 'feetech' ? new FeetechMotorBus(transport) : new DynamixelMotorBus(transport)) as unknown as ServoBus<string>;
    await bus.open();
    t.after(async () => {
      await bus.close();
      await emu.stop();
      await pty.close();
    });
    const chain = emu.chain;
    for (const id of IDS) await bus.write('Torque_Enable', id, 1, { numRetry: 10 }).catch(() => undefined);
    const addr = protocol === 'feetech' ? 56 : 132;
    const size = protocol === 'feetech' ? 2 : 4;
    const rand = xorshift32(protocol === 'feetech' ? 7 : 11);
    let good = 0;
    let failed = 0;
    const stale: string[] = [];
    let cycle = 0;
    for (const phase of PHASES) {
      Object.assign(emu.adapter, phase.adapter);
      chain.faults.dropRate = 0.02;
      chain.faults.corruptRate = 0.02;
      chain.faults.garbageRate = 0.02;
      chain.faults.faultBitsRate = 0.01;
      for (let i = 0; i < phase.cycles; i++, cycle++) {
        const goals = IDS.map(() => 1000 + Math.floor(rand() * 2000));
        await bus.syncWrite('Goal_Position', IDS.map((id, k) => ({ id, value: goals[k]! })));
        if (rand() < 0.05) {
          // The host stalls (GC, a loaded CPU): replies pile up in the kernel meanwhile.
          const until = performance.now() + rand() * 12;
          while (performance.now() < until) {
            /* busy */
          }
        }
        try {
          const r = await bus.syncRead('Present_Position', IDS);
          const truth = IDS.map((id) => chain.truth(id, addr, size));
          good++;
          if (r.values.some((v, k) => v !== truth[k])) stale.push(`cycle ${cycle} (latency ${phase.adapter.latencyMs} ms): got ${r.values.join(',')}, truth ${truth.join(',')}`);
        } catch {
          failed++;
        }
      }
    }
    chain.faults.dropRate = chain.faults.corruptRate = chain.faults.garbageRate = chain.faults.faultBitsRate = 0;
    t.diagnostic(`${good} good reads, ${failed} failed cycles, ${stale.length} stale; emulator ${JSON.stringify(chain.stats)} adapter ${JSON.stringify(emu.adapterStats)}; bus ${JSON.stringify(bus.stats)}`);
    assert.equal(stale.length, 0, `stale reads returned as good:\n${stale.slice(0, 10).join('\n')}`);
    assert.ok(emu.adapterStats.late > 10 && emu.adapterStats.duplicated > 10, 'the adapter faults really happened');
    assert.ok(good > 0.8 * cycle, `most cycles must still succeed (${good}/${cycle})`);
  });
}
