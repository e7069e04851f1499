export { ServoChain, type ServoSpec, type FaultConfig, type EmulatedProtocol } from './ServoChain';
export { ServoEmulator, type ServoEmulatorOptions } from './ServoEmulator';
export { openPtyPair, socatAvailable, type PtyPair } from './pty';
