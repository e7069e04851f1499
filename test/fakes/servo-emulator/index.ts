export { ServoChain, type ServoSpec, type FaultConfig, type EmulatedProtocol } from './ServoChain';
export { ServoEmulator, type ServoEmulatorOptions, type AdapterModel } from './ServoEmulator';
export { openPtyPair, socatAvailable, type PtyPair } from './pty';
