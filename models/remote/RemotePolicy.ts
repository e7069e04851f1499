/**
 * A policy served elsewhere, behind the same `Policy` interface as a local bundle: `infer` sends the
 * observation to an openpi-protocol server and returns the chunk in robot units (absolute, the
 * manifest's `horizon` rows, `action.joints` order), with the round trip split into server time
 * (the server's own `server_timing.infer_ms`) and network time (the rest: transfer, queueing,
 * encoding). Connection state is explicit: `connect` checks the server's metadata against the
 * manifest; a dropped connection emits 'disconnected' and is not reopened here (the runner
 * decides when, with backoff).
 */
import { EventEmitter } from 'node:events';
import type { BundleProblem } from '../runtime/manifest';
import type { PolicyObservation } from '../policies/preprocess';
import type { DecodeSettings, InferResult, Policy } from '../policies/types';
import { checkServerMetadata, type RemoteManifest } from './manifest';
import { buildRequest, decodeActions, type JointRange } from './mapping';
import { isWireMap, type WireValue } from './msgpackNumpy';
import { OpenpiClient, RemoteError } from './OpenpiClient';

export interface RemoteTiming {
  roundTripMs: number;
  /** The server's inference time, when it reports one (openpi: server_timing.infer_ms). */
  serverMs?: number;
  /** Round trip minus server time: transfer, queueing, encoding and decoding. */
  networkMs?: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface RemoteInferResult extends InferResult {
  remote: RemoteTiming;
}

export class RemoteMetadataError extends Error {
  readonly code = 'REMOTE_METADATA';
  constructor(readonly url: string, readonly problems: BundleProblem[]) {
    super(`the server at ${url} does not match the manifest: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'RemoteMetadataError';
  }
}

export interface RemotePolicyOptions {
  /** The robot's joints: `PolicyObservation.state` comes in this order. */
  robotJoints: readonly string[];
  /** Joint ranges: a chunk far outside them is refused (decodeActions). */
  limits?: Readonly<Record<string, JointRange>>;
  env?: Record<string, string | undefined>;
}

export interface RemotePolicyEvents {
  disconnected: [RemoteError];
}

export class RemotePolicy extends EventEmitter<RemotePolicyEvents> implements Policy<RemoteManifest> {
  private client: OpenpiClient | undefined;
  private disposed = false;

  constructor(readonly manifest: RemoteManifest, private readonly opts: RemotePolicyOptions) {
    super();
  }

  get url(): string {
    return this.manifest.server.url;
  }

  /** Opens the connection and checks the metadata; throws RemoteError or RemoteMetadataError. */
  async connect(): Promise<void> {
    if (this.disposed) throw new RemoteError('closed', 'the remote policy was stopped');
    this.client?.close();
    const s = this.manifest.server;
    const env = this.opts.env ?? process.env;
    const apiKey = s.apiKeyEnv !== undefined ? env[s.apiKeyEnv] : undefined;
    const c = await OpenpiClient.connect(s.url, { timeoutMs: s.connectTimeoutMs, ...(apiKey ? { apiKey } : {}) });
    const problems = checkServerMetadata(this.manifest, c.metadata);
    if (problems.length > 0) {
      c.close();
      throw new RemoteMetadataError(s.url, problems);
    }
    if (this.disposed) {
      c.close();
      throw new RemoteError('closed', 'the remote policy was stopped');
    }
    this.client = c;
    c.on('close', (e) => {
      if (this.client === c) this.emit('disconnected', e);
    });
  }

  async infer(obs: PolicyObservation, _settings?: DecodeSettings): Promise<RemoteInferResult> {
    const c = this.client;
    if (c === undefined || !c.open) throw new RemoteError('closed', `not connected to ${this.url}`);
    const state: Record<string, number> = {};
    this.opts.robotJoints.forEach((j, i) => {
      const v = obs.state[i];
      if (v !== undefined) state[j] = v;
    });
    const req = buildRequest(this.manifest, { state, images: obs.images, task: obs.instruction });
    const r = await c.infer(req, this.manifest.server.requestTimeoutMs);
    const chunk = decodeActions(this.manifest, r.reply, state, this.opts.limits);
    const serverMs = serverInferMs(r.reply);
    return {
      chunk,
      fields: {},
      tokens: [],
      valid: true,
      stats: {
        encoderMs: 0, prefillMs: 0, reasoningMs: 0, actionsMs: 0, totalMs: r.roundTripMs, promptTokens: 0, tokens: 0, reasoningTokens: 0, actionTokens: 0,
        targetCalls: 0, draftCalls: 0, acceptedTokens: 0, acceptLength: 0, maxAcceptedDistance: 0, cacheHit: false,
      },
      remote: {
        roundTripMs: r.roundTripMs,
        ...(serverMs !== undefined ? { serverMs, networkMs: Math.max(0, r.roundTripMs - serverMs) } : {}),
        bytesSent: r.bytesSent,
        bytesReceived: r.bytesReceived,
      },
    };
  }

  /** The protocol is stateless (openpi's client reset does nothing): nothing to forget here. */
  reset(): void {}

  /** Drops the connection (a request in flight fails); `connect` may open it again. */
  disconnect(): void {
    const c = this.client;
    this.client = undefined;
    c?.close();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.disconnect();
  }
}

function serverInferMs(reply: WireValue): number | undefined {
  if (!isWireMap(reply)) return undefined;
  const t = reply.server_timing;
  if (!isWireMap(t)) return undefined;
  const v = t.infer_ms;
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}
