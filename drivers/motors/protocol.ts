/**
 * What a servo protocol gives the shared bus: packet builders, a frame scanner, register
 * encoding and error-bit names. Feetech and Dynamixel each provide one (feetech/protocol.ts,
 * dynamixel/protocol.ts). Pure data and functions.
 */
export interface RegisterDef {
  readonly address: number;
  readonly size: 1 | 2 | 4;
  readonly area: 'eeprom' | 'ram' | 'ro';
}

export interface StatusFrame {
  id: number;
  error: number;
  params: Uint8Array;
}

export type ProtocolScan =
  | { kind: 'frame'; frame: StatusFrame; start: number; end: number; isStatus: boolean }
  | { kind: 'corrupt'; id: number; start: number; end: number; reason: string }
  | { kind: 'incomplete'; start: number };

export interface BusProtocol<R extends string> {
  readonly name: 'feetech' | 'dynamixel';
  readonly broadcastId: number;
  readonly maxId: number;
  readonly table: Readonly<Record<R, RegisterDef>>;
  readonly scanBaudRates: readonly number[];
  /** Bytes of a status packet carrying n data bytes. */
  statusLength(nData: number): number;
  encodePing(id: number): Uint8Array;
  encodeRead(id: number, address: number, length: number): Uint8Array;
  encodeWrite(id: number, address: number, data: ArrayLike<number>): Uint8Array;
  encodeSyncRead(address: number, length: number, ids: readonly number[]): Uint8Array;
  encodeSyncWrite(address: number, length: number, entries: readonly { id: number; data: ArrayLike<number> }[]): Uint8Array;
  scan(buf: Uint8Array, from: number): ProtocolScan;
  encodeValue(reg: R, value: number): Uint8Array;
  decodeValue(reg: R, bytes: ArrayLike<number>, offset?: number): number;
  /** Model number carried by a ping reply, when the protocol has one (Dynamixel). */
  pingModel(frame: StatusFrame): number | undefined;
  errorBits(err: number): string[];
  errorAdvice(err: number): string;
  /** True when the status byte means the servo has a fault (as opposed to a clean reply). */
  isFault(err: number): boolean;
  /** True when the status byte says the instruction was refused (not applied), not just that the servo has a fault. */
  isRejection(err: number): boolean;
  /**
   * End (exclusive) of the memory a read may extend into. The bus varies the length of its
   * reads (a few bytes past the register) to tag each request: replies carry their length.
   */
  readEnd: number;
}
