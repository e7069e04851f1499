/**
 * Runs a ServoEmulator in a child process (so its busy-wait hold doesn't share the driver's
 * thread). Start with child_process.fork(this file, [], { execArgv: ['--import', 'tsx'] });
 * send {type:'start', opts}, then {type:'faults', ...} / {type:'stats'} / {type:'stop'}.
 */
import { ServoEmulator, type AdapterModel, type ServoEmulatorOptions } from './ServoEmulator';

let emu: ServoEmulator | undefined;

type Msg =
  | { type: 'start'; opts: ServoEmulatorOptions }
  | {
      type: 'faults';
      dropRate?: number;
      corruptRate?: number;
      garbageRate?: number;
      faultBitsRate?: number;
      holdToWireTime?: boolean;
      adapter?: Partial<AdapterModel>;
      resetStats?: boolean;
    }
  | { type: 'stats' }
  | { type: 'stop' };

process.on('message', (m: Msg) => {
  void (async () => {
    switch (m.type) {
      case 'start':
        emu = new ServoEmulator(m.opts);
        await emu.start();
        process.send?.({ type: 'started' });
        break;
      case 'faults':
        if (emu) {
          if (m.dropRate !== undefined) emu.chain.faults.dropRate = m.dropRate;
          if (m.corruptRate !== undefined) emu.chain.faults.corruptRate = m.corruptRate;
          if (m.garbageRate !== undefined) emu.chain.faults.garbageRate = m.garbageRate;
          if (m.faultBitsRate !== undefined) emu.chain.faults.faultBitsRate = m.faultBitsRate;
          if (m.holdToWireTime !== undefined) emu.holdToWireTime = m.holdToWireTime;
          if (m.adapter) Object.assign(emu.adapter, m.adapter);
          if (m.resetStats) {
            Object.assign(emu.chain.stats, { requests: 0, replies: 0, dropped: 0, corrupted: 0, garbage: 0, badRequests: 0, faultBitChanges: 0 });
            Object.assign(emu.adapterStats, { late: 0, duplicated: 0 });
          }
        }
        process.send?.({ type: 'ok' });
        break;
      case 'stats':
        process.send?.({ type: 'stats', stats: emu ? { ...emu.chain.stats, ...emu.adapterStats } : undefined });
        break;
      case 'stop':
        await emu?.stop();
        process.send?.({ type: 'stopped' });
        process.exit(0);
    }
  })();
});
