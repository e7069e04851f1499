/** The Feetech STS protocol as the shared bus sees it. Pure. */
import type { BusProtocol, ProtocolScan } from '../protocol';
import * as c from './codec';
import { FEETECH_SCAN_BAUDRATES, STS_CONTROL_TABLE, type StsRegister } from './tables';

export const feetechProtocol: BusProtocol<StsRegister> = {
  name: 'feetech',
  broadcastId: c.FT_BROADCAST,
  maxId: 0xfc,
  table: STS_CONTROL_TABLE,
  scanBaudRates: FEETECH_SCAN_BAUDRATES,
  statusLength: (n) => n + 6,
  encodePing: c.encodePing,
  encodeRead: c.encodeRead,
  encodeWrite: c.encodeWrite,
  encodeSyncRead: c.encodeSyncRead,
  encodeSyncWrite: c.encodeSyncWrite,
  scan(buf, from): ProtocolScan {
    const r = c.scanFrame(buf, from);
    if (r.kind !== 'frame') return r;
    // Status packets and instructions share a frame; the host only sees instructions as echoes.
    return { kind: 'frame', frame: { id: r.frame.id, error: r.frame.code, params: r.frame.params }, start: r.start, end: r.end, isStatus: r.frame.id !== c.FT_BROADCAST };
  },
  encodeValue: (reg, v) => c.encodeRegister(reg, v),
  decodeValue: (reg, b, o) => c.decodeRegister(reg, b, 'le', o),
  pingModel: () => undefined,
  errorBits: c.decodeErrorBits,
  errorAdvice: c.errorAdvice,
  isFault: (err) => err !== 0,
  // The status byte reports the servo's state (overload, overheat...): the instruction still ran.
  isRejection: () => false,
  readEnd: 87, // Acceleration_Multiplier @86 is the last register of the STS table
};
