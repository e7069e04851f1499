/**
 * A byte transport for a half-duplex servo bus. SerialTransport implements it over
 * node-serialport; tests may implement it over anything that moves bytes.
 *
 * Invariants: `read`/`receive` only ever see bytes that arrived after the last
 * `discardInput()`/`flush()`; `close()` rejects every in-flight call with CanceledError.
 */
export type ScanResult<T> = { value: T; consumed: number } | undefined;

/** Looks at the pending input; returns a value and how many bytes it used, or undefined to wait for more. */
export type Scanner<T> = (pending: Uint8Array) => ScanResult<T>;

export interface Transport {
  readonly path: string;
  readonly isOpen: boolean;
  readonly baudRate: number;
  open(): Promise<void>;
  close(): Promise<void>;
  write(bytes: Uint8Array): Promise<void>;
  /** Exactly n bytes, or a CommunicationError(kind 'timeout') after timeoutMs. */
  read(n: number, timeoutMs: number): Promise<Uint8Array>;
  /** Runs `scan` on the pending bytes each time more arrive until it returns a value. */
  receive<T>(scan: Scanner<T>, timeoutMs: number): Promise<T>;
  /** Drops bytes already received in user space (cheap, synchronous). */
  discardInput(): void;
  /** Drops user-space bytes and asks the OS to discard its input AND output buffers: only safe when nothing written may still be unsent (e.g. right after open). */
  flush(): Promise<void>;
  /** Bytes waiting in user space. */
  pendingBytes(): number;
  setBaudRate(baudRate: number): Promise<void>;
}

/** Wire time of n bytes at a baud rate, 8N1 (10 bits a byte), in milliseconds. */
export function wireTimeMs(bytes: number, baudRate: number): number {
  return (bytes * 10 * 1000) / baudRate;
}
