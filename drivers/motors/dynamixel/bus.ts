/** DynamixelMotorBus: the shared ServoBus with Dynamixel Protocol 2.0. */
import type { Transport } from '../../transport/Transport';
import { ServoBus, type ServoBusOptions } from '../ServoBus';
import { dynamixelProtocol } from './protocol';
import type { XRegister } from './tables';

export class DynamixelMotorBus extends ServoBus<XRegister> {
  constructor(transport: Transport, opts: ServoBusOptions = {}) {
    // Koch arms in LeRobot don't retry reads; we do (cheap with wire-time timeouts).
    super(transport, dynamixelProtocol, opts);
  }
}
