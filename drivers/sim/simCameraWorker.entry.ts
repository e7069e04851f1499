/**
 * Worker body for SimCameraWorker: renders world snapshots for the simulated cameras off the
 * control loop's thread. Loaded through simCameraWorker.bootstrap.mjs (which registers tsx).
 *
 * In:  { type: 'render', snap: Float64Array, timeMs, jobs: [{ key, width, height, buf?: ArrayBuffer }] }
 *      { type: 'crash', message }   (tests: throws, as a bug in the renderer would)
 * Out: { type: 'ready' }   (once loaded)
 *      { type: 'frame', key, timeMs, buf: ArrayBuffer }   (transferred; RGB24, width * height * 3)
 */
import { parentPort } from 'node:worker_threads';
import { SimRenderer, type SimCameraKey } from './render';
import { SnapshotScene } from './sceneSnapshot';

export interface RenderJob {
  key: SimCameraKey;
  width: number;
  height: number;
  buf?: ArrayBuffer;
}
export type ToWorker = { type: 'render'; snap: Float64Array; timeMs: number; jobs: RenderJob[] } | { type: 'crash'; message: string };
export type FromWorker = { type: 'ready' } | { type: 'frame'; key: SimCameraKey; timeMs: number; buf: ArrayBuffer };

if (!parentPort) throw new Error('simCameraWorker.entry: not running in a worker');
const port = parentPort;
const scene = new SnapshotScene();
const renderers = new Map<string, SimRenderer>();

port.on('message', (m: ToWorker) => {
  if (m.type === 'crash') throw new Error(m.message);
  if (m.type !== 'render') return;
  const world = scene.apply(m.snap).asWorld();
  for (const job of m.jobs) {
    const rk = `${job.key}:${job.width}x${job.height}`;
    let r = renderers.get(rk);
    if (!r) renderers.set(rk, (r = new SimRenderer(job.width, job.height)));
    const n = job.width * job.height * 3;
    const out = job.buf && job.buf.byteLength === n ? new Uint8Array(job.buf) : new Uint8Array(n);
    r.render(world, job.key, out);
    const msg: FromWorker = { type: 'frame', key: job.key, timeMs: m.timeMs, buf: out.buffer as ArrayBuffer };
    port.postMessage(msg, [msg.buf]);
  }
});
port.postMessage({ type: 'ready' } satisfies FromWorker);
