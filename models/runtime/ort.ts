/**
 * The one module that imports onnxruntime-node. Sessions, tensors and the session options the
 * Node binding actually parses (see shared/specs/vla.md §10).
 *
 * `run()` executes synchronously on the calling JS thread, so everything built on this module is
 * meant to live in the inference child process (runtime/child.ts), never on the loop's thread.
 * Each session has one caller at a time (`OrtSession.run` chains calls through a promise).
 */
import * as ort from 'onnxruntime-node';

export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface SessionConfig {
  /** Threads for one operator; physical cores reserved for the model. Default 1. */
  intraOpNumThreads?: number;
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Keep idle workers spinning: lowest latency on dedicated cores, starves others on shared ones. Default false. */
  allowSpinning?: boolean;
}

export interface GraphValueInfo {
  name: string;
  isTensor: boolean;
  type?: string;
  /** Numbers for fixed dims, strings for symbolic ones; empty when unknown. */
  shape: ReadonlyArray<number | string>;
}

export type FeedTensor =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] };

export interface OutputTensor {
  data: Float32Array;
  dims: readonly number[];
}

export class OrtSession {
  private chain: Promise<unknown> = Promise.resolve();
  private disposed = false;
  private constructor(private readonly session: ort.InferenceSession, readonly path: string) {}

  static async create(path: string, config: SessionConfig = {}): Promise<OrtSession> {
    const opts: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: config.intraOpNumThreads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: config.graphOptimizationLevel ?? 'all',
      enableCpuMemArena: true,
      extra: { session: { intra_op: { allow_spinning: config.allowSpinning === true ? '1' : '0' } } },
    };
    return new OrtSession(await ort.InferenceSession.create(path, opts), path);
  }

  get inputs(): GraphValueInfo[] {
    return this.session.inputMetadata.map(info);
  }

  get outputs(): GraphValueInfo[] {
    return this.session.outputMetadata.map(info);
  }

  /** Runs one inference; calls are serialised (one caller at a time). */
  run(feeds: Record<string, FeedTensor>): Promise<Record<string, OutputTensor>> {
    const next = this.chain.then(async () => {
      if (this.disposed) throw new Error(`session ${this.path} was disposed`);
      const f: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) f[k] = new ort.Tensor(v.type, v.data, v.dims);
      const out = await this.session.run(f);
      const res: Record<string, OutputTensor> = {};
      for (const [k, t] of Object.entries(out)) {
        if (t.type !== 'float32') throw new Error(`output ${k} of ${this.path} is ${t.type}, expected float32`);
        res[k] = { data: t.data as Float32Array, dims: t.dims };
      }
      return res;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.chain;
    await this.session.release();
  }
}

function info(m: ort.InferenceSession.ValueMetadata): GraphValueInfo {
  return m.isTensor ? { name: m.name, isTensor: true, type: m.type, shape: m.shape } : { name: m.name, isTensor: false, shape: [] };
}

/** Graph metadata only (for validation): opens the session, reads names and shapes, releases it. */
export async function readGraphInfo(path: string): Promise<{ inputs: GraphValueInfo[]; outputs: GraphValueInfo[] }> {
  const s = await OrtSession.create(path, { graphOptimizationLevel: 'disabled' });
  try {
    return { inputs: s.inputs, outputs: s.outputs };
  } finally {
    await s.dispose();
  }
}
