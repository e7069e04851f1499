/** Dynamixel Protocol 2.0 as the shared bus sees it. Pure. */
import type { BusProtocol, ProtocolScan } from '../protocol';
import * as c from './codec';
import { DXL_SCAN_BAUDRATES, X_CONTROL_TABLE, type XRegister } from './tables';

export const dynamixelProtocol: BusProtocol<XRegister> = {
  name: 'dynamixel',
  broadcastId: c.DXL_BROADCAST,
  maxId: 0xfc,
  table: X_CONTROL_TABLE,
  scanBaudRates: DXL_SCAN_BAUDRATES,
  statusLength: (n) => n + 11,
  encodePing: c.encodePing,
  encodeRead: c.encodeRead,
  encodeWrite: c.encodeWrite,
  encodeSyncRead: c.encodeSyncRead,
  encodeSyncWrite: c.encodeSyncWrite,
  scan(buf, from): ProtocolScan {
    const r = c.scanFrame(buf, from);
    if (r.kind !== 'frame') return r;
    return { kind: 'frame', frame: { id: r.frame.id, error: r.frame.error, params: r.frame.params }, start: r.start, end: r.end, isStatus: r.frame.instr === c.DXL_INST.STATUS };
  },
  encodeValue: (reg, v) => c.encodeRegister(reg, v),
  decodeValue: (reg, b, o) => c.decodeRegister(reg, b, o),
  pingModel: (f) => (f.params.length >= 2 ? f.params[0]! | (f.params[1]! << 8) : undefined),
  errorBits: c.decodeErrorBits,
  errorAdvice: (err) =>
    err & 0x80
      ? 'the servo raised a hardware alert (read Hardware_Error_Status); it usually needs the load removed and a reboot or power-cycle'
      : err & 0x7f
        ? 'the servo rejected the instruction (check register address, length and value range)'
        : '',
  // Result errors (low bits) mean the instruction was refused; bit 7 is a hardware alert.
  isFault: (err) => err !== 0,
  isRejection: (err) => (err & 0x7f) !== 0,
  readEnd: 147, // Present_Temperature @146 ends the block the bus reads
};
