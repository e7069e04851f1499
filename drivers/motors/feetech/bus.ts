/**
 * FeetechMotorBus: the shared ServoBus with the Feetech STS protocol, plus a scan over
 * Feetech's baud table. The codec is little-endian (STS/SMS); SCS (big-endian) servos are
 * supported by the codec but not driven by this bus (LeRobot forbids sync read on them too).
 */
import type { Transport } from '../../transport/Transport';
import { ServoBus, type ServoBusOptions } from '../ServoBus';
import { feetechProtocol } from './protocol';
import type { StsRegister } from './tables';

export class FeetechMotorBus extends ServoBus<StsRegister> {
  constructor(transport: Transport, opts: ServoBusOptions = {}) {
    super(transport, feetechProtocol, opts);
  }
}

export interface ScanResult {
  baudRate: number;
  /** id → model number */
  servos: Map<number, number>;
}

/** Tries each baud rate (fastest first) with a broadcast ping; returns every rate where servos answered. */
export async function scanBaudRates<R extends string>(bus: ServoBus<R>, baudRates: readonly number[] = bus.protocol.scanBaudRates): Promise<ScanResult[]> {
  const found: ScanResult[] = [];
  const original = bus.transport.baudRate;
  try {
    for (const baudRate of baudRates) {
      await bus.transport.setBaudRate(baudRate);
      const servos = await bus.broadcastPing();
      if (servos.size > 0) found.push({ baudRate, servos });
    }
  } finally {
    await bus.transport.setBaudRate(original);
  }
  return found;
}
