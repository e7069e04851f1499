/**
 * RemoteRunner's latency-aware queue without a network (a stub policy with scripted round trips):
 * the refill threshold follows the measured round trip, chunks are stamped with their observation
 * tick so overtaken actions are dropped, and a fault holds until reconnect + hand-back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { RemoteRunner } from '../../../main/services/remote';
import { RemoteError } from '../../../models/remote/OpenpiClient';
import { RemoteObservationError } from '../../../models/remote/mapping';
import type { RemotePolicy, RemoteInferResult } from '../../../models/remote/RemotePolicy';
import type { Observation } from '../../../main/control/types';
import { demoRemoteManifest, until } from './remoteRig';

const JOINTS = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];

class StubPolicy extends EventEmitter {
  readonly manifest = demoRemoteManifest('ws://stub');
  url = 'ws://stub';
  rtt = 10;
  fail: Error | undefined;
  /** The next request fails before reaching the server (a camera without a frame). */
  noFrame = false;
  requests: number[] = [];
  resolveNext: (() => void) | undefined;
  async connect(): Promise<void> {
    if (this.fail) throw this.fail;
  }
  disconnect(): void {}
  async dispose(): Promise<void> {}
  infer(obs: { state: readonly number[] }): Promise<RemoteInferResult> {
    this.requests.push(obs.state[0]!);
    if (this.fail) return Promise.reject(this.fail);
    if (this.noFrame) {
      this.noFrame = false;
      return Promise.reject(new RemoteObservationError('camera "front" has no frame yet'));
    }
    // action t of the chunk = observation tick (carried in state[0]) + t, so the test sees which tick each action was made for
    const chunk = Array.from({ length: 8 }, (_, t) => JOINTS.map((_, j) => (j === 0 ? obs.state[0]! + t : 0)));
    return new Promise((res) => {
      this.resolveNext = () => res({ chunk, fields: {}, tokens: [], valid: true, stats: {} as never, remote: { roundTripMs: this.rtt, bytesSent: 1, bytesReceived: 1 } });
    });
  }
}

function obs(tick: number): Observation {
  return { timeMs: tick * 33.3, state: [tick, 0, 0, 0, 0, 0], images: {}, task: 't' };
}

test('refill threshold follows the measured round trip; overtaken actions are dropped', async () => {
  const p = new StubPolicy();
  const r = new RemoteRunner(p as unknown as RemotePolicy, { robotJoints: JOINTS, rateHz: 30 });
  const timings: { droppedActions: number; refillAt: number; delayTicks: number }[] = [];
  r.on('timing', (t) => timings.push(t));
  assert.equal(await r.start(), true);
  assert.equal(r.refillAt, 4); // g·H before any measurement
  assert.equal(r.step(obs(0)), undefined); // request for tick 0 in flight, nothing queued: hold
  r.step(obs(1));
  r.step(obs(2));
  p.rtt = 200; // 6 ticks at 30 Hz
  p.resolveNext!();
  await until(() => timings.length === 1, 1000, 'reply');
  assert.deepEqual({ d: timings[0]!.delayTicks, dropped: timings[0]!.droppedActions }, { d: 3, dropped: 3 });
  assert.equal(r.refillAt, 7); // ceil(200 / 33.3) + 1
  // tick 3 executes the chunk's action for tick 3 (made at tick 0: 0 + 3), not its first action
  const out = r.step(obs(3))!;
  assert.equal(out.goal[0], 3);
  assert.equal(p.requests.length, 2, 'with 5 actions left < 7 a new request started at once');
  p.rtt = 10;
  p.resolveNext!();
  await until(() => timings.length === 2, 1000, 'reply');
  assert.equal(r.refillAt, 7, 'the recent maximum keeps the margin');
  await r.stop();
});

test('a fault empties the queue and holds; reconnected, it waits for hand-back', async () => {
  const p = new StubPolicy();
  const r = new RemoteRunner(p as unknown as RemotePolicy, { robotJoints: JOINTS, rateHz: 30, backoffMs: { first: 20, max: 40 } });
  await r.start();
  r.step(obs(0));
  p.resolveNext!();
  await until(() => r.step(obs(1)) !== undefined, 1000, 'actions');
  p.emit('disconnected', new RemoteError('closed', 'the server closed the connection (1006)'));
  assert.equal(r.state, 'faulted');
  assert.equal(r.step(obs(2)), undefined, 'queued actions must not run after a fault');
  r.reset(); // a hand-back while disconnected does not resume
  assert.equal(r.state, 'faulted');
  await until(() => r.state === 'awaiting_handback', 1000, 'reconnect');
  assert.equal(r.step(obs(3)), undefined);
  assert.equal(p.requests.length, 1, 'no request before hand-back');
  r.reset();
  assert.equal(r.state, 'running');
  r.step(obs(4));
  assert.equal(p.requests.length, 2);
  await r.stop();
});

test('a camera without a frame holds that tick with its own warning, cleared by the next reply; no fault, no reconnect', async () => {
  const p = new StubPolicy();
  const r = new RemoteRunner(p as unknown as RemotePolicy, { robotJoints: JOINTS, rateHz: 30 });
  const ps: { id: string; cleared?: true; message?: string }[] = [];
  r.on('problem', (x) => ps.push(x as never));
  await r.start();
  p.noFrame = true;
  assert.equal(r.step(obs(0)), undefined);
  await until(() => ps.length === 1, 1000, 'warning');
  assert.equal(ps[0]!.id, 'remote-policy-input');
  assert.match(ps[0]!.message!, /camera "front" has no frame yet\. The arm holds\./);
  assert.equal(r.state, 'running');
  r.step(obs(1));
  p.resolveNext!();
  await until(() => ps.length === 2, 1000, 'cleared');
  assert.deepEqual(ps[1], { id: 'remote-policy-input', cleared: true });
  await r.stop();
});
