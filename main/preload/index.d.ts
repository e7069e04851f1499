import type { ReinsBridge } from '../common/contract';

declare global {
  interface Window {
    /** Present only inside the Electron window (preload bridge). */
    reins?: ReinsBridge;
  }
}
export {};
