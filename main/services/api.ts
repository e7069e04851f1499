/**
 * The transport-agnostic side of the API: validates every request and command against the
 * contract, rate-limits each client, dispatches to handlers, turns errors into data, fans events
 * out, and paces camera frames per client (a client gets a camera's next frame only after it
 * acked the previous one: latest frame wins). Electron IPC and the WebSocket host both sit on it.
 */
import type { z } from 'zod';
import { COMMAND_CHANNELS, INVOKE_CHANNELS, MAX_MESSAGES_PER_SECOND, type CommandName, type EventName, type InvokeName } from '../common/channels';
import { commandSchemas, invokeSchemas, type EventPayloads, type FramePacket, type InvokeResults } from '../common/contract';
import { toErrorData, type ApiErrorData } from '../common/errors';

export type InvokeHandlers = {
  [K in InvokeName]: (args: z.output<(typeof invokeSchemas)[K]>) => Promise<InvokeResults[K]> | InvokeResults[K];
};
export type CommandHandlers = {
  [K in Exclude<CommandName, 'frameAck'>]: (args: z.output<(typeof commandSchemas)[K]>) => void;
};

export interface ClientLink {
  sendEvent<K extends Exclude<EventName, 'frame'>>(name: K, payload: EventPayloads[K]): void;
  sendFrame(frame: FramePacket): void;
  /** Bytes queued towards the client, if the transport knows (backpressure for frames). */
  bufferedBytes?(): number;
}

/** Bytes queued towards a client past which it gets no new frames (it is not reading). */
export const MAX_BUFFERED_FRAME_BYTES = 1024 * 1024;

export type InvokeOutcome = { ok: true; value: unknown } | { ok: false; error: ApiErrorData };

/** Commands by which a client takes (or keeps) control of the arm: the client that sent the last one is the operator. */
const OPERATOR_COMMANDS: ReadonlySet<string> = new Set<CommandName>(['jog', 'jogCartesian']);

const isInvoke = (n: string): n is InvokeName => (INVOKE_CHANNELS as readonly string[]).includes(n);
const isCommand = (n: string): n is CommandName => (COMMAND_CHANNELS as readonly string[]).includes(n);

function describeZod(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`).join('; ');
}

export class ClientConnection {
  private tokens = MAX_MESSAGES_PER_SECOND;
  private lastRefill: number;
  private readonly awaitingAck = new Set<string>();
  private readonly pending = new Map<string, FramePacket>();
  closed = false;
  constructor(
    private readonly server: ApiServer,
    readonly link: ClientLink,
    private readonly now: () => number,
  ) {
    this.lastRefill = now();
  }

  /** Token bucket: a flood gets 'rate_limited' answers instead of reaching the loop. */
  private admit(): ApiErrorData | undefined {
    const t = this.now();
    this.tokens = Math.min(MAX_MESSAGES_PER_SECOND, this.tokens + ((t - this.lastRefill) / 1000) * MAX_MESSAGES_PER_SECOND);
    this.lastRefill = t;
    if (this.tokens < 1) return { code: 'rate_limited', message: `More than ${MAX_MESSAGES_PER_SECOND} messages per second from this client; messages are being dropped.` };
    this.tokens -= 1;
    return undefined;
  }

  async invoke(name: unknown, args: unknown): Promise<InvokeOutcome> {
    const limited = this.admit();
    if (limited) return { ok: false, error: limited };
    if (typeof name !== 'string') return { ok: false, error: { code: 'bad_request', message: 'A request name must be a string.' } };
    if (!isInvoke(name)) return { ok: false, error: { code: 'unknown_channel', message: `Unknown request "${name.slice(0, 64)}".` } };
    const parsed = invokeSchemas[name].safeParse(args ?? {});
    if (!parsed.success) return { ok: false, error: { code: 'bad_request', message: `Invalid arguments for ${name}: ${describeZod(parsed.error)}` } };
    try {
      const handler = this.server.invokeHandlers[name] as (a: unknown) => Promise<unknown> | unknown;
      return { ok: true, value: await handler(parsed.data) };
    } catch (err) {
      return { ok: false, error: toErrorData(err) };
    }
  }

  /** Returns an error to report back to the client, or undefined when the command was accepted. */
  command(name: unknown, args: unknown): ApiErrorData | undefined {
    const limited = this.admit();
    if (limited) return limited;
    if (typeof name !== 'string') return { code: 'bad_request', message: 'A command name must be a string.' };
    if (!isCommand(name)) return { code: 'unknown_channel', message: `Unknown command "${name.slice(0, 64)}".` };
    const parsed = commandSchemas[name].safeParse(args ?? {});
    if (!parsed.success) return { code: 'bad_request', message: `Invalid arguments for ${name}: ${describeZod(parsed.error)}` };
    if (name === 'frameAck') {
      this.ack((parsed.data as { camera: string }).camera);
      return undefined;
    }
    try {
      (this.server.commandHandlers[name] as (a: unknown) => void)(parsed.data);
      if (OPERATOR_COMMANDS.has(name)) this.server.noteOperator(this);
      return undefined;
    } catch (err) {
      return toErrorData(err);
    }
  }

  private ack(camera: string): void {
    this.awaitingAck.delete(camera);
    const next = this.pending.get(camera);
    if (next) {
      this.pending.delete(camera);
      this.deliver(next);
    }
  }

  offerFrame(f: FramePacket): void {
    if (this.awaitingAck.has(f.camera)) {
      this.pending.set(f.camera, f); // latest frame wins
      return;
    }
    this.pending.delete(f.camera);
    this.deliver(f);
  }

  private deliver(f: FramePacket): void {
    // A client whose transport has not drained what it was sent gets no more frames until it does
    // (an ack alone proves nothing: a client can ack without reading). The newest frame waits.
    if ((this.link.bufferedBytes?.() ?? 0) > MAX_BUFFERED_FRAME_BYTES) {
      this.pending.set(f.camera, f);
      return;
    }
    this.awaitingAck.add(f.camera);
    this.link.sendFrame(f);
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    this.server.disconnect(this);
  }
}

export class ApiServer {
  private readonly clients = new Set<ClientConnection>();
  /** The client that sent the last operator command (jog): when it disconnects, `onOperatorGone` runs. */
  private operatorClient: ClientConnection | undefined;
  onOperatorGone: (() => void) | undefined;
  constructor(
    readonly invokeHandlers: InvokeHandlers,
    readonly commandHandlers: CommandHandlers,
    private readonly now: () => number = () => performance.now(),
  ) {}

  connect(link: ClientLink): ClientConnection {
    const c = new ClientConnection(this, link, this.now);
    this.clients.add(c);
    return c;
  }
  disconnect(c: ClientConnection): void {
    this.clients.delete(c);
    if (c === this.operatorClient) {
      this.operatorClient = undefined;
      try {
        this.onOperatorGone?.();
      } catch {
        /* called from a transport's close handler: a failure here must not take the host down */
      }
    }
  }
  noteOperator(c: ClientConnection): void {
    if (this.clients.has(c)) this.operatorClient = c;
  }
  get clientCount(): number {
    return this.clients.size;
  }

  emit<K extends Exclude<EventName, 'frame'>>(name: K, payload: EventPayloads[K]): void {
    for (const c of this.clients) {
      try {
        c.link.sendEvent(name, payload);
      } catch {
        /* a client that went away is removed by its transport */
      }
    }
  }

  offerFrame(f: FramePacket): void {
    for (const c of this.clients) c.offerFrame(f);
  }
}
