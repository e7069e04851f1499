/**
 * Picks the transport the console talks through: the Electron preload bridge (`window.reins`)
 * when present, otherwise a WebSocket to the headless host that served this page.
 * Either way the rest of the renderer programs against `ReinsApi` plus connection status.
 */
import type { ApiErrorData } from '../../../main/common/errors';
import type { CommandArgs, CommandName, EventName, EventPayloads, InvokeArgs, InvokeName, InvokeResults, ReinsApi, ReinsBridge } from '../../../main/common/contract';
import { ApiError, errorData } from './errors';
import { type ConnectionState, type SocketLike, WsClient, wsUrlFor } from './wsClient';

export type { ConnectionState } from './wsClient';

export interface ConsoleApi extends ReinsApi {
  readonly transport: 'electron' | 'websocket';
  onConnection(cb: (s: ConnectionState) => void): () => void;
  onServerError(cb: (e: ApiErrorData) => void): () => void;
}

/**
 * Wraps the preload bridge: its invoke resolves to the reply as data ({ok, value} | {ok:false, error})
 * because errors lose their fields crossing contextBridge; here a failed reply becomes an ApiError
 * carrying `code`, like the WebSocket client's.
 */
class BridgeApi implements ConsoleApi {
  readonly transport = 'electron' as const;
  constructor(private readonly bridge: ReinsBridge) {}
  async invoke<K extends InvokeName>(name: K, args: InvokeArgs<K>): Promise<InvokeResults[K]> {
    let reply;
    try {
      reply = await this.bridge.invoke(name, args);
    } catch (e) {
      throw new ApiError(errorData(e));
    }
    if (reply.ok) return reply.value;
    throw new ApiError(reply.error);
  }
  send<K extends CommandName>(name: K, args: CommandArgs<K>): void {
    this.bridge.send(name, args);
  }
  on<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): () => void {
    return this.bridge.on(name, cb);
  }
  onConnection(cb: (s: ConnectionState) => void): () => void {
    cb({ phase: 'open', attempts: 0, opens: 1 });
    return () => {};
  }
  onServerError(_cb: (e: ApiErrorData) => void): () => void {
    return () => {};
  }
}

class SocketApi implements ConsoleApi {
  readonly transport = 'websocket' as const;
  constructor(private readonly client: WsClient) {}
  invoke<K extends InvokeName>(name: K, args: InvokeArgs<K>): Promise<InvokeResults[K]> {
    return this.client.invoke(name, args);
  }
  send<K extends CommandName>(name: K, args: CommandArgs<K>): void {
    this.client.send(name, args);
  }
  on<K extends EventName>(name: K, cb: (payload: EventPayloads[K]) => void): () => void {
    return this.client.on(name, cb);
  }
  onConnection(cb: (s: ConnectionState) => void): () => void {
    return this.client.onConnection(cb);
  }
  onServerError(cb: (e: ApiErrorData) => void): () => void {
    return this.client.onServerError(cb);
  }
}

let instance: ConsoleApi | undefined;

/** The one API object of this page (created on first use). */
export function getApi(): ConsoleApi {
  if (instance !== undefined) return instance;
  const bridge = (window as unknown as { reins?: ReinsBridge }).reins;
  if (bridge !== undefined && bridge !== null) {
    instance = new BridgeApi(bridge);
  } else {
    const client = new WsClient({
      url: wsUrlFor(window.location.href),
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
    });
    client.connect();
    instance = new SocketApi(client);
  }
  return instance;
}
